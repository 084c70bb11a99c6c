//! The offline coach: short rule-based answers from the person's profile,
//! plan and numbers, so the embedded mode answers with no model and tests
//! are deterministic. Every answer it writes is labelled `offline`.

use super::model::Topic;
use crate::fitness::analytics::UserAnalytics;
use crate::fitness::model::{Goal, Level, Profile};
use crate::fitness::planner::{self, Body};

/// What the offline coach knows when it answers.
pub struct Facts<'a> {
    pub profile: &'a Profile,
    pub body: Body,
    pub analytics: &'a UserAnalytics,
}

/// Phrases that ask the coach to leave its scope.
const OFF_SCOPE: &[&str] = &[
    "ignore previous",
    "ignore all previous",
    "ignore your",
    "ignore the above",
    "system prompt",
    "your instructions",
    "developer mode",
    "other user",
    "another user",
    "every user",
    "all users",
    "other people's",
    "password",
    "api key",
    "write code",
    "игнорируй",
    "другого пользователя",
    "других пользователей",
    "пароль",
];

pub const DECLINE: &str = "I'm your FitSync coach, so I can only help with your own training, \
nutrition, recovery and progress. What would you like to work on?";

/// The offline coach's answer to `question` on `topic`.
pub fn reply(topic: Topic, question: &str, facts: &Facts<'_>) -> String {
    let q = question.to_lowercase();
    if OFF_SCOPE.iter().any(|w| q.contains(w)) {
        return DECLINE.to_owned();
    }
    match topic_of(topic, &q) {
        Topic::Workout => workout(facts.profile),
        Topic::Nutrition => nutrition(facts),
        Topic::Progress => progress(facts.analytics, facts.profile),
        Topic::General => general(facts.profile),
    }
}

/// The topic the question's words point at, else the conversation's.
fn topic_of(topic: Topic, q: &str) -> Topic {
    let said: Vec<&str> = q.split(|c: char| !c.is_alphanumeric()).collect();
    // A word that starts with a stem ("calories", "тренировка").
    let has = |stems: &[&str]| stems.iter().any(|s| said.iter().any(|w| w.starts_with(s)));
    if has(&[
        "eat",
        "calori",
        "protein",
        "diet",
        "meal",
        "food",
        "питан",
        "калори",
        "белок",
        "еда",
    ]) {
        Topic::Nutrition
    } else if has(&["progress", "weigh", "streak", "прогресс", "вес"]) {
        Topic::Progress
    } else if has(&[
        "plan",
        "workout",
        "exercise",
        "train",
        "sets",
        "трениров",
        "упражн",
        "план",
    ]) {
        Topic::Workout
    } else {
        topic
    }
}

const WEEKDAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

fn workout(p: &Profile) -> String {
    let week = planner::workout(p);
    let article = if p.level == Level::Beginner {
        "a"
    } else {
        "an"
    };
    let mut out = format!(
        "For {article} {} training {} days a week for {} minutes, aiming at {}: ",
        p.level,
        week.days.len(),
        p.minutes_per_session,
        goals(p)
    );
    let days: Vec<String> = week
        .days
        .iter()
        .map(|d| {
            let day = usize::try_from(d.weekday - 1)
                .ok()
                .and_then(|i| WEEKDAYS.get(i))
                .unwrap_or(&"day");
            let moves: Vec<String> = d
                .exercises
                .iter()
                .take(3)
                .map(|e| match (e.reps, e.duration_sec) {
                    (Some(r), _) => format!("{} {}×{r}", e.name, e.sets),
                    (None, Some(s)) => format!("{} {}×{s}s", e.name, e.sets),
                    (None, None) => e.name.clone(),
                })
                .collect();
            format!("{day} {} ({})", d.focus.replace('_', " "), moves.join(", "))
        })
        .collect();
    out.push_str(&days.join("; "));
    out.push_str(". The other days are for rest. ");
    out.push_str(&week.progression);
    if !p.limitations.is_empty() {
        out.push_str(" I've kept clear of movements that load what you told me about your limits.");
    }
    out.push_str(" Ask for it as a plan to keep it (POST /api/ai/plans).");
    out
}

fn nutrition(f: &Facts<'_>) -> String {
    let t = planner::targets(f.profile, f.body);
    format!(
        "Aim for about {} kcal a day with {} g protein, {} g carbohydrate and {} g fat, for {}. \
         Spread the protein over three or four meals, build each plate around vegetables, and \
         check your weight weekly: adjust by 150–200 kcal if it moves the wrong way for two weeks.",
        t.calories,
        t.protein_g,
        t.carbs_g,
        t.fat_g,
        goals(f.profile)
    )
}

fn progress(a: &UserAnalytics, p: &Profile) -> String {
    let w = &a.workouts;
    if w.total == 0 {
        return "There is nothing logged yet: log your first workout and a body weight, and I \
                will track your progress from there."
            .into();
    }
    let trend = if w.this_week > w.last_week {
        "up on last week — keep it going"
    } else if w.this_week == w.last_week {
        "level with last week"
    } else {
        "below last week; one short session gets you back on track"
    };
    let mut out = format!(
        "You have logged {} workouts ({} minutes, about {} kcal). This week {} against {} last \
         week: {trend}. ",
        w.total, w.total_minutes, w.total_calories, w.this_week, w.last_week
    );
    if w.streak_days > 1 {
        out.push_str(&format!("You're on a {}-day streak. ", w.streak_days));
    }
    let change = a.progress.weight_change;
    if a.progress.measurements > 1 {
        out.push_str(&format!("Your weight has changed by {change:+.1} kg"));
        let wanted = if p.goals.contains(&Goal::LoseWeight) {
            Some(change < 0.0)
        } else if p.goals.contains(&Goal::BuildMuscle) {
            Some(change > 0.0)
        } else {
            None
        };
        out.push_str(match wanted {
            Some(true) => ", in the direction of your goal.",
            Some(false) => "; if that stays so for two more weeks, adjust your calories.",
            None => ".",
        });
    } else {
        out.push_str("Log your weight weekly so I can show its trend.");
    }
    out
}

fn general(p: &Profile) -> String {
    let tip = match p.goals.first() {
        Some(Goal::LoseWeight) => {
            "a small daily calorie deficit, protein at every meal and 8–10 thousand steps matter more than any single workout"
        }
        Some(Goal::BuildMuscle) => {
            "progressive overload — a little more weight or one more rep each week — with enough protein and sleep"
        }
        Some(Goal::Strength) => {
            "heavy compound lifts in the 3–6 rep range with full rest, and patience"
        }
        Some(Goal::Endurance) => "mostly easy aerobic work, with one harder session a week",
        Some(Goal::Mobility) => "a little every day rather than a lot once a week",
        Some(Goal::Health) | None => {
            "moving most days, two strength sessions a week, and sleeping seven to nine hours"
        }
    };
    format!(
        "For {}, what counts most is {tip}. Ask me about your workouts, your nutrition or your \
         progress for specifics.",
        goals(p)
    )
}

fn goals(p: &Profile) -> String {
    let names: Vec<String> = p
        .goals
        .iter()
        .map(|g| g.as_str().replace('_', " "))
        .collect();
    if names.is_empty() {
        "health".into()
    } else {
        names.join(" and ")
    }
}

/// An answer cut into the pieces a stream sends (a word with its space).
pub fn pieces(text: &str) -> Vec<&str> {
    text.split_inclusive(' ').collect()
}
