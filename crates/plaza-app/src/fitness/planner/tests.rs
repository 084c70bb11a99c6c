use plaza_core::{Timestamp, UserId};

use super::*;
use crate::fitness::model::Units;

fn profile(
    level: Level,
    goals: &[Goal],
    equipment: &[Equipment],
    days: i64,
    minutes: i64,
    limits: &str,
) -> Profile {
    let mut p = Profile::starting(UserId::new(), Timestamp::from_unix_seconds(1_800_000_000));
    p.level = level;
    p.goals = goals.to_vec();
    p.equipment = equipment.to_vec();
    p.days_per_week = days;
    p.minutes_per_session = minutes;
    p.limitations = limits.into();
    p.units = Units::Metric;
    p
}

/// Every rule a plan must keep, for one profile.
fn check(p: &Profile) {
    let week = workout(p);
    let expected = p.days_per_week.clamp(1, 7) as usize;
    assert_eq!(week.days.len(), expected, "{p:?}");
    let weekdays: Vec<i64> = week.days.iter().map(|d| d.weekday).collect();
    assert!(weekdays.windows(2).all(|w| w[0] < w[1]), "{weekdays:?}");
    assert!(weekdays.iter().all(|d| (1..=7).contains(d)));
    if p.days_per_week < 7 {
        assert!(weekdays.len() < 7, "a rest day");
    }
    let limits = p.limitations.to_lowercase();
    for day in &week.days {
        assert!(
            !day.exercises.is_empty(),
            "{} has no exercise: {p:?}",
            day.focus
        );
        let total: i64 = day.exercises.iter().map(minutes).sum();
        assert!(
            total <= p.minutes_per_session.max(minutes(&day.exercises[0]) + 10),
            "{total} min > {} min: {day:?}",
            p.minutes_per_session
        );
        for e in &day.exercises {
            assert!(e.sets >= 1);
            assert!(e.reps.is_some() != e.duration_sec.is_some(), "{e:?}");
            let known = LIBRARY
                .iter()
                .find(|k| k.name == e.name)
                .expect("a known exercise");
            assert!(
                known.needs.is_empty() || known.needs.iter().any(|n| p.has(*n)),
                "{} needs {:?}, has {:?}",
                e.name,
                known.needs,
                p.equipment
            );
            assert!(
                !known.strains.iter().any(|s| limits.contains(s)),
                "{} strains {limits}",
                e.name
            );
        }
        let names: Vec<&String> = day.exercises.iter().map(|e| &e.name).collect();
        let mut unique = names.clone();
        unique.dedup();
        assert_eq!(
            names.len(),
            unique.len(),
            "an exercise twice in a day: {names:?}"
        );
    }
    let body = Body {
        weight_kg: 82.0,
        height_cm: 178.0,
        age: 34.0,
    };
    let t = targets(p, body);
    assert!(t.calories > 1200 && t.calories < 5000, "{t:?}");
    assert!(
        t.protein_g * 4 + t.carbs_g * 4 + t.fat_g * 9 <= t.calories + 10,
        "{t:?}"
    );
    if p.goals.contains(&Goal::LoseWeight) {
        assert!(t.calories as f64 >= bmr(p.sex, body) * 1.1 - 1.0);
    }
    let menu = meals(t);
    assert_eq!(menu.days.len(), 7);
    for day in &menu.days {
        let kcal: i64 = day.meals.iter().map(|m| m.calories).sum();
        assert!((kcal - t.calories).abs() <= 4, "{kcal} vs {}", t.calories);
    }
}

#[test]
fn the_offline_plans_keep_every_rule_for_every_profile() {
    let levels = [Level::Beginner, Level::Intermediate, Level::Advanced];
    let goal_sets: [&[Goal]; 5] = [
        &[Goal::Health],
        &[Goal::LoseWeight],
        &[Goal::BuildMuscle, Goal::Strength],
        &[Goal::Endurance, Goal::Mobility],
        &[Goal::Strength],
    ];
    let kits: [&[Equipment]; 4] = [
        &[Equipment::None],
        &[Equipment::Dumbbells, Equipment::Bench],
        &[Equipment::Barbell, Equipment::PullupBar, Equipment::Bike],
        &[
            Equipment::Bands,
            Equipment::Treadmill,
            Equipment::Kettlebell,
        ],
    ];
    let limits = [
        "",
        "bad knee",
        "lower back pain",
        "shoulder impingement and a sore wrist",
    ];
    let mut n = 0;
    for level in levels {
        for goals in goal_sets {
            for kit in kits {
                for days in [1, 2, 3, 4, 5, 6, 7] {
                    for (minutes, limit) in [20, 45, 90]
                        .into_iter()
                        .zip(limits.iter().cycle().skip(days as usize))
                    {
                        check(&profile(level, goals, kit, days, minutes, limit));
                        n += 1;
                    }
                }
            }
        }
    }
    assert_eq!(n, 3 * 5 * 4 * 7 * 3);
}

#[test]
fn plans_follow_the_goal_and_the_kit() {
    let strong = workout(&profile(
        Level::Advanced,
        &[Goal::Strength],
        &[Equipment::Barbell],
        3,
        90,
        "",
    ));
    let squat = &strong.days[0].exercises[0];
    assert_eq!(
        (squat.name.as_str(), squat.reps),
        ("Barbell back squat", Some(5))
    );
    let home = workout(&profile(
        Level::Beginner,
        &[Goal::Health],
        &[Equipment::None],
        3,
        45,
        "knee",
    ));
    assert!(
        home.days[0]
            .exercises
            .iter()
            .any(|e| e.name == "Glute bridge")
    );
    assert!(
        !home.days[0]
            .exercises
            .iter()
            .any(|e| e.name.contains("squat"))
    );
    let runner = workout(&profile(
        Level::Intermediate,
        &[Goal::Endurance],
        &[Equipment::Treadmill],
        5,
        60,
        "",
    ));
    assert!(runner.days.iter().filter(|d| d.focus == "cardio").count() >= 2);
}

#[test]
fn energy_follows_mifflin_st_jeor() {
    let body = Body {
        weight_kg: 70.0,
        height_cm: 175.0,
        age: 30.0,
    };
    // 10·70 + 6.25·175 − 5·30 + 5 = 1648.75
    assert!((bmr(Sex::Male, body) - 1648.75).abs() < 1e-9);
    assert!((bmr(Sex::Female, body) - 1482.75).abs() < 1e-9);
    assert_eq!(calories(8.0, 70.0, 30), 280);
    let p = profile(
        Level::Beginner,
        &[Goal::Health],
        &[Equipment::None],
        3,
        45,
        "",
    );
    let mut male = p.clone();
    male.sex = Sex::Male;
    // 1648.75 × 1.55 = 2555.6
    assert_eq!(targets(&male, body).calories, 2556);
}
