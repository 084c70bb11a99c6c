use std::sync::OnceLock;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

/// Histogram buckets (seconds) for every latency plaza records.
const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// The process-wide registry, installed on first use.
pub fn metrics_handle() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        let builder = PrometheusBuilder::new()
            .set_buckets(LATENCY_BUCKETS)
            .unwrap_or_else(|_| PrometheusBuilder::new());
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("another metrics recorder is installed; /metrics will be incomplete");
        }
        handle
    })
}

/// Everything recorded so far, in Prometheus text format, with the
/// process's memory measured now.
pub fn render_metrics() -> String {
    record_process_memory();
    let handle = metrics_handle();
    handle.run_upkeep();
    handle.render()
}

/// Resident and virtual memory from `/proc/self/status` (Linux; elsewhere
/// the gauges are absent).
fn record_process_memory() {
    let Ok(status) = std::fs::read_to_string("/proc/self/status") else {
        return;
    };
    for line in status.lines() {
        let (name, field) = if let Some(rest) = line.strip_prefix("VmRSS:") {
            ("process_resident_memory_bytes", rest)
        } else if let Some(rest) = line.strip_prefix("VmSize:") {
            ("process_virtual_memory_bytes", rest)
        } else {
            continue;
        };
        let kib: Option<f64> = field.trim().trim_end_matches("kB").trim().parse().ok();
        if let Some(kib) = kib {
            metrics::gauge!(name).set(kib * 1024.0);
        }
    }
}
