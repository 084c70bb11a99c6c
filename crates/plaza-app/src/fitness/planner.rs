//! The offline planner: plaza's own rule-based coach, the AI port's
//! embedded default, so the embedded mode makes plans with no model and
//! tests are deterministic. Every plan it makes says `"provider":
//! "offline"`. Workouts follow the profile's days, minutes, equipment,
//! level, goals and stated limits, with rest days and progressive
//! overload; meals meet targets from Mifflin–St Jeor.

use super::model::{
    Equipment, Goal, Level, Meal, MealDay, MealWeek, PlanDay, PlannedExercise, Profile, Sex,
    Targets, WorkoutWeek,
};

/// Movement patterns a day is built from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Pattern {
    Squat,
    Hinge,
    Push,
    Pull,
    Core,
    Cardio,
    Mobility,
}

/// One exercise the planner knows: what it trains and what it needs.
struct Known {
    name: &'static str,
    pattern: Pattern,
    /// Any of these will do; empty needs nothing.
    needs: &'static [Equipment],
    /// Timed (seconds per set) rather than counted.
    timed: bool,
    /// Loads a joint the limits may rule out.
    strains: &'static [&'static str],
}

use Equipment as E;
use Pattern as P;

/// Best first within a pattern: the first whose needs are met is taken.
const LIBRARY: &[Known] = &[
    Known {
        name: "Barbell back squat",
        pattern: P::Squat,
        needs: &[E::Barbell],
        timed: false,
        strains: &["knee", "back"],
    },
    Known {
        name: "Goblet squat",
        pattern: P::Squat,
        needs: &[E::Dumbbells, E::Kettlebell],
        timed: false,
        strains: &["knee"],
    },
    Known {
        name: "Leg press",
        pattern: P::Squat,
        needs: &[E::Machines],
        timed: false,
        strains: &["knee"],
    },
    Known {
        name: "Bodyweight squat",
        pattern: P::Squat,
        needs: &[],
        timed: false,
        strains: &["knee"],
    },
    Known {
        name: "Glute bridge",
        pattern: P::Squat,
        needs: &[],
        timed: false,
        strains: &[],
    },
    Known {
        name: "Romanian deadlift",
        pattern: P::Hinge,
        needs: &[E::Barbell, E::Dumbbells],
        timed: false,
        strains: &["back"],
    },
    Known {
        name: "Kettlebell swing",
        pattern: P::Hinge,
        needs: &[E::Kettlebell],
        timed: false,
        strains: &["back"],
    },
    Known {
        name: "Single-leg hip thrust",
        pattern: P::Hinge,
        needs: &[],
        timed: false,
        strains: &[],
    },
    Known {
        name: "Bench press",
        pattern: P::Push,
        needs: &[E::Barbell],
        timed: false,
        strains: &["shoulder"],
    },
    Known {
        name: "Dumbbell bench press",
        pattern: P::Push,
        needs: &[E::Dumbbells],
        timed: false,
        strains: &["shoulder"],
    },
    Known {
        name: "Push-up",
        pattern: P::Push,
        needs: &[],
        timed: false,
        strains: &["shoulder", "wrist"],
    },
    Known {
        name: "Band chest press",
        pattern: P::Push,
        needs: &[E::Bands],
        timed: false,
        strains: &[],
    },
    Known {
        name: "Pull-up",
        pattern: P::Pull,
        needs: &[E::PullupBar],
        timed: false,
        strains: &["shoulder"],
    },
    Known {
        name: "Barbell row",
        pattern: P::Pull,
        needs: &[E::Barbell],
        timed: false,
        strains: &["back"],
    },
    Known {
        name: "One-arm dumbbell row",
        pattern: P::Pull,
        needs: &[E::Dumbbells, E::Kettlebell],
        timed: false,
        strains: &[],
    },
    Known {
        name: "Band row",
        pattern: P::Pull,
        needs: &[E::Bands],
        timed: false,
        strains: &[],
    },
    Known {
        name: "Prone Y-T-W raise",
        pattern: P::Pull,
        needs: &[],
        timed: false,
        strains: &[],
    },
    Known {
        name: "Plank",
        pattern: P::Core,
        needs: &[],
        timed: true,
        strains: &[],
    },
    Known {
        name: "Dead bug",
        pattern: P::Core,
        needs: &[],
        timed: false,
        strains: &[],
    },
    Known {
        name: "Treadmill intervals",
        pattern: P::Cardio,
        needs: &[E::Treadmill],
        timed: true,
        strains: &["knee"],
    },
    Known {
        name: "Bike intervals",
        pattern: P::Cardio,
        needs: &[E::Bike],
        timed: true,
        strains: &[],
    },
    Known {
        name: "Brisk walk",
        pattern: P::Cardio,
        needs: &[],
        timed: true,
        strains: &[],
    },
    Known {
        name: "Hip and thoracic mobility flow",
        pattern: P::Mobility,
        needs: &[],
        timed: true,
        strains: &[],
    },
];

/// The days of the week trained, spread so that rest falls between them.
fn weekdays(days: i64) -> &'static [i64] {
    match days {
        ..=1 => &[3],
        2 => &[1, 4],
        3 => &[1, 3, 5],
        4 => &[1, 2, 4, 5],
        5 => &[1, 2, 3, 5, 6],
        6 => &[1, 2, 3, 4, 5, 6],
        _ => &[1, 2, 3, 4, 5, 6, 7],
    }
}

/// Each day's focus and patterns, by how many days there are.
fn split(days: usize, goals: &[Goal]) -> Vec<(&'static str, Vec<Pattern>)> {
    let full = (
        "full_body",
        vec![P::Squat, P::Push, P::Hinge, P::Pull, P::Core],
    );
    let upper = ("upper", vec![P::Push, P::Pull, P::Push, P::Pull, P::Core]);
    let lower = ("lower", vec![P::Squat, P::Hinge, P::Squat, P::Core]);
    let cardio = ("cardio", vec![P::Cardio, P::Core, P::Mobility]);
    let mobility = ("mobility", vec![P::Mobility, P::Core, P::Cardio]);
    let mut week = match days {
        0..=3 => vec![full; days],
        4 => vec![upper.clone(), lower.clone(), upper, lower],
        5 => vec![upper.clone(), lower.clone(), cardio.clone(), upper, lower],
        6 => vec![
            upper.clone(),
            lower.clone(),
            cardio.clone(),
            upper,
            lower,
            cardio,
        ],
        _ => vec![
            upper.clone(),
            lower.clone(),
            cardio.clone(),
            upper,
            lower,
            cardio,
            mobility.clone(),
        ],
    };
    // Endurance and weight loss trade the last lifting day of a long week
    // for cardio; mobility work takes the last day of any week of four or more.
    if week.len() >= 4
        && goals
            .iter()
            .any(|g| matches!(g, Goal::Endurance | Goal::LoseWeight))
    {
        let at = week.len() - 2;
        week[at] = ("cardio", vec![P::Cardio, P::Core, P::Mobility]);
    }
    if week.len() >= 4 && goals.contains(&Goal::Mobility) {
        let at = week.len() - 1;
        week[at] = mobility;
    }
    week
}

/// The exercise of `pattern` the profile can do, avoiding what its limits
/// rule out and what the day already has.
fn choose(profile: &Profile, pattern: Pattern, taken: &[&str]) -> Option<&'static Known> {
    let limits = profile.limitations.to_lowercase();
    let fits = |k: &&Known| {
        k.pattern == pattern
            && (k.needs.is_empty() || k.needs.iter().any(|e| profile.has(*e)))
            && !k.strains.iter().any(|s| limits.contains(s))
            && !taken.contains(&k.name)
    };
    LIBRARY.iter().find(fits)
}

/// Sets, reps (or seconds) and rest for the profile's level and goals.
fn dose(profile: &Profile, known: &Known) -> PlannedExercise {
    let strength = profile.goals.contains(&Goal::Strength);
    let muscle = profile.goals.contains(&Goal::BuildMuscle);
    let sets = match profile.level {
        Level::Beginner => 2,
        Level::Intermediate => 3,
        Level::Advanced => 4,
    };
    let (sets, reps, duration, rest) = match known.pattern {
        P::Cardio => (
            1,
            None,
            Some(60 * (profile.minutes_per_session / 2).clamp(10, 45)),
            0,
        ),
        P::Mobility => (1, None, Some(600), 0),
        _ if known.timed => (sets, None, Some(30 + 15 * sets), 45),
        _ if strength && profile.level != Level::Beginner => (sets + 1, Some(5), None, 150),
        _ if muscle => (sets + 1, Some(10), None, 90),
        _ => (sets, Some(12), None, 60),
    };
    PlannedExercise {
        name: known.name.to_owned(),
        sets,
        reps,
        duration_sec: duration,
        rest_sec: rest,
        notes: String::new(),
    }
}

/// Roughly how long an exercise takes: 40 s a counted set, plus rests.
fn minutes(e: &PlannedExercise) -> i64 {
    let work = e.duration_sec.unwrap_or(40);
    (e.sets * (work + e.rest_sec) + 59) / 60
}

/// A week of training for `profile`.
pub fn workout(profile: &Profile) -> WorkoutWeek {
    let days = weekdays(profile.days_per_week);
    let plan = split(days.len(), &profile.goals);
    let mut out = Vec::with_capacity(days.len());
    for (weekday, (focus, patterns)) in days.iter().zip(plan) {
        let mut exercises: Vec<PlannedExercise> = Vec::new();
        // Ten minutes go to warming up and cooling down.
        let mut left = profile.minutes_per_session - 10;
        for pattern in patterns {
            let taken: Vec<&str> = exercises.iter().map(|e| e.name.as_str()).collect();
            let Some(known) = choose(profile, pattern, &taken) else {
                continue;
            };
            let mut e = dose(profile, known);
            if matches!(pattern, P::Cardio | P::Mobility) {
                // Timed blocks shrink to the time there is.
                let fit = (left * 60).max(300);
                e.duration_sec = e.duration_sec.map(|d| d.min(fit));
            }
            let needs = minutes(&e);
            if needs > left && !exercises.is_empty() {
                break;
            }
            left -= needs;
            exercises.push(e);
        }
        out.push(PlanDay {
            weekday: *weekday,
            focus: focus.to_owned(),
            exercises,
        });
    }
    WorkoutWeek {
        days: out,
        progression: "Each week add one rep per set until the top of the range, then add \
                      the smallest load step (2.5 kg / 5 lb) and start again at the bottom; \
                      every fourth week, do two thirds of the sets."
            .into(),
    }
}

/// What an estimate assumed because the profile did not say.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Body {
    pub weight_kg: f64,
    pub height_cm: f64,
    pub age: f64,
}

/// Resting energy by Mifflin–St Jeor (kcal/day).
pub fn bmr(sex: Sex, body: Body) -> f64 {
    let base = 10.0 * body.weight_kg + 6.25 * body.height_cm - 5.0 * body.age;
    base + match sex {
        Sex::Male => 5.0,
        Sex::Female => -161.0,
        Sex::Unspecified => -78.0,
    }
}

/// Daily targets: resting energy times activity (by training days), moved
/// by the goal, with protein by body weight and fat a quarter of energy.
pub fn targets(profile: &Profile, body: Body) -> Targets {
    let activity = match profile.days_per_week {
        ..=2 => 1.375,
        3..=4 => 1.55,
        _ => 1.725,
    };
    let need = bmr(profile.sex, body) * activity;
    let goals = &profile.goals;
    let calories = if goals.contains(&Goal::LoseWeight) {
        (need * 0.8).max(bmr(profile.sex, body) * 1.1)
    } else if goals.contains(&Goal::BuildMuscle) {
        need * 1.1
    } else {
        need
    };
    let per_kg = if goals
        .iter()
        .any(|g| matches!(g, Goal::BuildMuscle | Goal::Strength | Goal::LoseWeight))
    {
        2.0
    } else {
        1.6
    };
    let protein = body.weight_kg * per_kg;
    let fat = calories * 0.25 / 9.0;
    let carbs = ((calories - protein * 4.0 - fat * 9.0) / 4.0).max(0.0);
    Targets {
        calories: calories.round() as i64,
        protein_g: protein.round() as i64,
        carbs_g: carbs.round() as i64,
        fat_g: fat.round() as i64,
    }
}

/// Meal templates, each a share of the day's targets.
const MEALS: [(&str, [&str; 3], f64); 4] = [
    (
        "Breakfast",
        [
            "Oats with Greek yoghurt and berries",
            "Eggs on wholegrain toast",
            "Cottage cheese, fruit and nuts",
        ],
        0.25,
    ),
    (
        "Lunch",
        [
            "Chicken, rice and greens",
            "Lentil and vegetable stew",
            "Tuna, potato and salad",
        ],
        0.35,
    ),
    (
        "Snack",
        [
            "Apple and peanut butter",
            "Skyr with honey",
            "Hummus and vegetables",
        ],
        0.10,
    ),
    (
        "Dinner",
        [
            "Salmon, quinoa and broccoli",
            "Tofu stir-fry with noodles",
            "Lean beef, sweet potato and beans",
        ],
        0.30,
    ),
];

/// A week of meals meeting `targets` (each day within a few kcal of it:
/// the shares add up, and rounding moves at most a few kcal).
pub fn meals(targets: Targets) -> MealWeek {
    let days = (1..=7)
        .map(|weekday| {
            let meals = MEALS
                .iter()
                .map(|(slot, choices, share)| {
                    let pick = choices[(weekday as usize) % choices.len()];
                    let part = |v: i64| (v as f64 * share).round() as i64;
                    Meal {
                        name: format!("{slot}: {pick}"),
                        calories: part(targets.calories),
                        protein_g: part(targets.protein_g),
                        carbs_g: part(targets.carbs_g),
                        fat_g: part(targets.fat_g),
                    }
                })
                .collect();
            MealDay { weekday, meals }
        })
        .collect();
    MealWeek { targets, days }
}

/// Energy spent: MET × body weight (kg) × hours.
pub fn calories(met: f64, weight_kg: f64, minutes: i64) -> i64 {
    (met * weight_kg * minutes as f64 / 60.0).round() as i64
}

#[cfg(test)]
mod tests;
