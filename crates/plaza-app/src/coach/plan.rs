//! Plans from the model: asked for as JSON against a strict schema,
//! checked as a written plan is, and asked for once more with the reason
//! when the answer does not hold; a second bad answer fails the request
//! and keeps nothing.

use plaza_platform::ai::{self, Message, Role, Schema, Usage};
use serde_json::{Value, json};

use super::error::CoachError;
use super::prompt::INSTRUCTIONS;
use crate::fitness::plans;
use crate::fitness::records::PlanKind;

/// A plan the model wrote, not yet kept.
pub struct Drafted {
    pub name: String,
    pub body: Value,
    pub model: String,
    pub usage: Usage,
    pub cost_micros: i64,
}

/// Asks `client` for a plan of `kind` for the person `facts` describes.
pub async fn ask(
    client: &ai::Client,
    kind: PlanKind,
    facts: &Value,
    targets: Option<&Value>,
    instructions: &str,
) -> Result<Drafted, CoachError> {
    let mut messages = vec![
        Message::new(Role::System, INSTRUCTIONS),
        Message::new(Role::System, brief(kind, facts, targets)),
        Message::new(
            Role::User,
            if instructions.is_empty() {
                "Make me a plan.".to_owned()
            } else {
                instructions.to_owned()
            },
        ),
    ];
    let request = |messages: Vec<Message>| ai::Request {
        messages,
        schema: Some(schema(kind)),
    };
    let mut spent = (Usage::default(), 0i64);
    let mut why = String::new();
    for _ in 0..2 {
        let answer = client.complete(&request(messages.clone())).await?;
        spent.0.input += answer.usage.input;
        spent.0.output += answer.usage.output;
        spent.1 += answer.cost_micros;
        match parse(kind, &answer.text) {
            Ok((name, body)) => {
                return Ok(Drafted {
                    name,
                    body,
                    model: answer.model,
                    usage: spent.0,
                    cost_micros: spent.1,
                });
            }
            Err(e) => {
                metrics::counter!("plaza_ai_invalid_plans_total").increment(1);
                why = e;
                messages.push(Message::new(Role::Assistant, answer.text));
                messages.push(Message::new(
                    Role::User,
                    format!("That plan is not valid: {why}. Answer again with JSON that fits the schema."),
                ));
            }
        }
    }
    Err(CoachError::Ai {
        reason: format!("the model's plan was invalid twice: {why}"),
        retryable: false,
        retry_after: None,
    })
}

fn brief(kind: PlanKind, facts: &Value, targets: Option<&Value>) -> String {
    match kind {
        PlanKind::Workout => format!(
            "Write a one-week workout plan as JSON for the schema given: weekdays 1 (Monday) to 7, \
             each training day once, rest days left out, 1–30 exercises a day with 1–20 sets and \
             either reps (1–100) or a duration in seconds, within the person's equipment and \
             limits, with a progression for the weeks after. The person's profile (data): {facts}"
        ),
        PlanKind::Meal => format!(
            "Write a one-week meal plan as JSON for the schema given: weekdays 1 (Monday) to 7, \
             meals with calories (0–10000) and protein, carbohydrate and fat in grams, adding up \
             to the daily targets. Targets (Mifflin–St Jeor): {} The person's profile (data): \
             {facts}",
            targets.cloned().unwrap_or(Value::Null)
        ),
    }
}

/// The plan in `text` (JSON, perhaps in a code fence): its name and body,
/// if it is a plan of `kind`.
pub fn parse(kind: PlanKind, text: &str) -> Result<(String, Value), String> {
    let text = text.trim();
    let text = text
        .strip_prefix("```json")
        .or_else(|| text.strip_prefix("```"))
        .and_then(|t| t.strip_suffix("```"))
        .unwrap_or(text);
    let mut body: Value =
        serde_json::from_str(text.trim()).map_err(|e| format!("not JSON ({e})"))?;
    let name = body
        .as_object_mut()
        .and_then(|o| o.remove("name"))
        .and_then(|n| n.as_str().map(str::to_owned))
        .filter(|n| !n.trim().is_empty() && n.chars().count() <= 120)
        .ok_or("`name` must be 1–120 characters")?;
    plans::check(kind, &body)?;
    Ok((name, body))
}

/// The strict JSON Schema a plan of `kind` is asked against.
pub fn schema(kind: PlanKind) -> Schema {
    let object = |props: Value| {
        let required: Vec<String> = props
            .as_object()
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default();
        json!({"type": "object", "additionalProperties": false, "required": required, "properties": props})
    };
    let int = json!({"type": "integer"});
    let text = json!({"type": "string"});
    match kind {
        PlanKind::Workout => {
            let exercise = object(json!({
                "name": text, "sets": int, "reps": {"type": ["integer", "null"]},
                "duration_sec": {"type": ["integer", "null"]}, "rest_sec": int, "notes": text,
            }));
            let day = object(json!({
                "weekday": int, "focus": text,
                "exercises": {"type": "array", "items": exercise},
            }));
            Schema {
                name: "workout_plan",
                schema: object(json!({
                    "name": text, "progression": text,
                    "days": {"type": "array", "items": day},
                })),
            }
        }
        PlanKind::Meal => {
            let meal = object(json!({
                "name": text, "calories": int, "protein_g": int, "carbs_g": int, "fat_g": int,
            }));
            let day = object(json!({"weekday": int, "meals": {"type": "array", "items": meal}}));
            let targets = object(json!({
                "calories": int, "protein_g": int, "carbs_g": int, "fat_g": int,
            }));
            Schema {
                name: "meal_plan",
                schema: object(json!({
                    "name": text, "targets": targets,
                    "days": {"type": "array", "items": day},
                })),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plan_in_a_fence_parses_and_a_bad_one_says_why() {
        let good = r#"```json
{"name": "Push pull", "progression": "add a rep", "days": [{"weekday": 1, "focus": "push",
 "exercises": [{"name": "Push-up", "sets": 3, "reps": 10, "duration_sec": null, "rest_sec": 60, "notes": ""}]}]}
```"#;
        let (name, body) = parse(PlanKind::Workout, good).unwrap();
        assert_eq!(name, "Push pull");
        assert!(body.get("name").is_none() && body["days"][0]["focus"] == "push");
        let eight = good.replace("\"weekday\": 1", "\"weekday\": 8");
        assert!(
            parse(PlanKind::Workout, &eight)
                .unwrap_err()
                .contains("weekday 8")
        );
        assert!(
            parse(PlanKind::Workout, "Sure! Here is your plan")
                .unwrap_err()
                .starts_with("not JSON")
        );
        let nameless = good.replace("\"name\": \"Push pull\", ", "");
        assert!(
            parse(PlanKind::Workout, &nameless)
                .unwrap_err()
                .contains("name")
        );
    }

    #[test]
    fn the_schemas_are_strict_every_property_required() {
        fn walk(v: &Value) {
            if v["type"] == "object" {
                assert_eq!(v["additionalProperties"], false);
                let props = v["properties"].as_object().unwrap();
                assert_eq!(v["required"].as_array().unwrap().len(), props.len());
                props.values().for_each(walk);
            }
            if let Some(items) = v.get("items") {
                walk(items);
            }
        }
        walk(&schema(PlanKind::Workout).schema);
        walk(&schema(PlanKind::Meal).schema);
    }
}
