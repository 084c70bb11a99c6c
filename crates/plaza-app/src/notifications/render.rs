//! Templates: one per type, channel and locale, written by admins (or
//! built in), rendered with MiniJinja. HTML mail bodies are escaped
//! automatically; text is not. Rendering is bounded (fuel), so a template
//! cannot loop for ever.

use minijinja::{AutoEscape, Environment, UndefinedBehavior};
use serde::Serialize;
use serde_json::Value;

use super::model::{Channel, Recipient};

/// The locale used when none of the person's has a template.
pub const DEFAULT_LOCALE: &str = "en";

/// Instructions a rendering may spend.
const FUEL: u64 = 100_000;

/// A template's three parts; `html` only for mail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Source {
    pub subject: String,
    pub body: String,
    pub html: Option<String>,
}

/// What a template made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rendered {
    pub title: String,
    pub body: String,
    pub html: Option<String>,
}

#[derive(Debug, thiserror::Error)]
#[error("{part}: {message}")]
pub struct TemplateError {
    /// `subject`, `body` or `html`.
    pub part: &'static str,
    pub message: String,
}

fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_fuel(Some(FUEL));
    // A misspelt variable renders empty rather than failing a delivery,
    // but a misspelt attribute of nothing is an error.
    env.set_undefined_behavior(UndefinedBehavior::Lenient);
    env.set_auto_escape_callback(|name| {
        if name.ends_with(".html") {
            AutoEscape::Html
        } else {
            AutoEscape::None
        }
    });
    env
}

fn parts(source: &Source) -> impl Iterator<Item = (&'static str, &str)> {
    [
        ("subject", Some(source.subject.as_str())),
        ("body", Some(source.body.as_str())),
        ("html", source.html.as_deref()),
    ]
    .into_iter()
    .filter_map(|(name, text)| text.map(|t| (name, t)))
}

/// Compiles each part, naming the first that does not parse.
pub fn check(source: &Source) -> Result<(), TemplateError> {
    let env = environment();
    for (part, text) in parts(source) {
        env.template_from_named_str(name(part), text)
            .map_err(|e| TemplateError {
                part,
                message: describe(&e),
            })?;
    }
    Ok(())
}

fn name(part: &str) -> &'static str {
    match part {
        "html" => "body.html",
        "subject" => "subject.txt",
        _ => "body.txt",
    }
}

fn describe(e: &minijinja::Error) -> String {
    match e.line() {
        Some(line) => format!("{} (line {line})", e.detail().unwrap_or(&e.to_string())),
        None => e.detail().map_or_else(|| e.to_string(), str::to_owned),
    }
}

/// The context every template sees.
#[derive(Serialize)]
struct Context<'a> {
    user: UserContext<'a>,
    data: &'a Value,
    app_url: &'a str,
}

#[derive(Serialize)]
struct UserContext<'a> {
    id: String,
    username: &'a str,
    /// The display name, or the username without one.
    name: &'a str,
    email: &'a str,
}

pub fn render(
    source: &Source,
    to: &Recipient,
    data: &Value,
    app_url: &str,
) -> Result<Rendered, TemplateError> {
    let env = environment();
    let context = minijinja::Value::from(minijinja::value::Serde(Context {
        user: UserContext {
            id: to.id.to_string(),
            username: &to.username,
            name: to.display_name.as_deref().unwrap_or(&to.username),
            email: &to.email,
        },
        data,
        app_url,
    }));
    let run = |part: &'static str, text: &str| {
        env.render_named_str(name(part), text, context.clone())
            .map_err(|e| TemplateError {
                part,
                message: describe(&e),
            })
    };
    Ok(Rendered {
        // A subject is one line.
        title: run("subject", &source.subject)?
            .trim()
            .replace(['\r', '\n'], " "),
        body: run("body", &source.body)?,
        html: source.html.as_deref().map(|h| run("html", h)).transpose()?,
    })
}

/// The locales to try for a person's, best first: `pt-BR` → `pt-BR`, `pt`,
/// then the default.
pub fn locales(locale: &str) -> Vec<String> {
    let mut out = vec![locale.to_owned()];
    if let Some((language, _)) = locale.split_once(['-', '_']) {
        out.push(language.to_owned());
    }
    if !out.iter().any(|l| l == DEFAULT_LOCALE) {
        out.push(DEFAULT_LOCALE.to_owned());
    }
    out
}

/// The channels whose templates serve `channel`, best first: sockets and
/// push fall back to the in-app wording.
pub fn template_channels(channel: Channel) -> &'static [Channel] {
    match channel {
        Channel::InApp => &[Channel::InApp],
        Channel::Websocket => &[Channel::Websocket, Channel::InApp],
        Channel::Push => &[Channel::Push, Channel::InApp],
        Channel::Email => &[Channel::Email],
    }
}

/// The templates plaza ships, used when no admin wrote one.
pub fn builtin(kind: &str, channel: Channel) -> Option<Source> {
    let (subject, body, html) = match (kind, channel) {
        ("user.registered", Channel::Email) => (
            "Welcome to plaza, {{ user.name }}",
            "Hello {{ user.name }},\n\nyour account is ready. Sign in at {{ app_url }} with {{ user.email }}.\n\nSee you there!\n",
            Some(
                "<p>Hello {{ user.name }},</p><p>your account is ready. Sign in at \
                 <a href=\"{{ app_url }}\">{{ app_url }}</a> with {{ user.email }}.</p><p>See you there!</p>",
            ),
        ),
        ("user.registered", _) => (
            "Welcome, {{ user.name }}!",
            "Your account is ready. Fill in your profile so people know who you are.",
            None,
        ),
        ("project.response.created", _) => (
            "New response to “{{ data.title }}”",
            "A freelancer offers to do it for {{ data.bid_amount }} (minor units of {{ data.currency }}) in {{ data.eta_days }} days.",
            None,
        ),
        ("project.response.accepted", _) => (
            "{% if data.role == \"owner\" %}You accepted a response to “{{ data.title }}”{% else %}Your response to “{{ data.title }}” was accepted{% endif %}",
            "The project is under way. A chat between you is open: {{ data.chat_id }}.",
            None,
        ),
        ("escrow.funded", _) => (
            "Escrow funded for “{{ data.title }}”",
            "{{ data.amount_decimal }} {{ data.currency }} is held for the deal. {% if data.role == \"freelancer\" %}It is yours once the client accepts the work.{% else %}It goes to the freelancer when you mark the project completed.{% endif %}",
            None,
        ),
        ("escrow.released", _) => (
            "Escrow released for “{{ data.title }}”",
            "{% if data.role == \"freelancer\" %}{{ data.payout_decimal }} {{ data.currency }} is in your wallet (after the platform's fee of {{ data.fee_decimal }}).{% else %}The deal's {{ data.amount_decimal }} {{ data.currency }} went to the freelancer.{% endif %}",
            None,
        ),
        ("escrow.refunded", _) => (
            "Escrow refunded for “{{ data.title }}”",
            "The project was cancelled; {{ data.amount_decimal }} {{ data.currency }} goes back to the client.",
            None,
        ),
        ("payment.succeeded", _) => (
            "Payment received",
            "Your payment of {{ data.amount_decimal }} {{ data.currency }} went through.",
            None,
        ),
        ("project.response.rejected", _) => (
            "Your response to “{{ data.title }}” was not chosen",
            "The owner went another way this time.",
            None,
        ),
        _ => return None,
    };
    Some(Source {
        subject: subject.to_owned(),
        body: body.to_owned(),
        html: html.map(str::to_owned),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ana() -> Recipient {
        Recipient {
            id: plaza_core::UserId::new(),
            email: "ana@example.com".into(),
            username: "ana".into(),
            display_name: Some("Ana <b>".into()),
            locale: "pt-BR".into(),
            timezone: "UTC".into(),
        }
    }

    #[test]
    fn html_is_escaped_and_text_is_not() {
        let source = Source {
            subject: "Hi {{ user.name }}\nthere".into(),
            body: "{{ data.what }} for {{ user.name }}".into(),
            html: Some("<p>{{ data.what }} for {{ user.name }}</p>".into()),
        };
        let out = render(
            &source,
            &ana(),
            &serde_json::json!({"what": "<tea>"}),
            "http://x",
        )
        .unwrap();
        assert_eq!(out.title, "Hi Ana <b> there");
        assert_eq!(out.body, "<tea> for Ana <b>");
        assert_eq!(out.html.unwrap(), "<p>&lt;tea&gt; for Ana &lt;b&gt;</p>");
    }

    #[test]
    fn broken_and_endless_templates_are_errors() {
        let broken = Source {
            subject: "ok".into(),
            body: "line one\n{% if %}".into(),
            html: None,
        };
        let e = check(&broken).unwrap_err();
        assert_eq!(e.part, "body");
        assert!(e.message.contains("line 2"), "{e}");
        let endless = Source {
            subject: "{% for i in range(1000000) %}{{ i }}{% endfor %}".into(),
            body: String::new(),
            html: None,
        };
        assert!(render(&endless, &ana(), &Value::Null, "").is_err());
    }

    #[test]
    fn locales_fall_back_to_the_language_then_the_default() {
        assert_eq!(locales("pt-BR"), ["pt-BR", "pt", "en"]);
        assert_eq!(locales("en"), ["en"]);
        assert_eq!(locales("ru"), ["ru", "en"]);
    }
}
