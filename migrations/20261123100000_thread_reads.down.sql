DROP TABLE thread_reads;
