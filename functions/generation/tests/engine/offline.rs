//! The offline provider: valid, readable, deterministic scenarios for every
//! prompt type, language and length.

use whatif_generation::provider::{ModelRequest, ScenarioModel};
use whatif_generation::providers::Offline;
use whatif_generation::scenario::{
    GenerationOptions, Language, Length, ParentContext, PromptType, ScenarioSpec, Topic, parse_model_output,
};
use whatif_generation::{prompts, scenario::GeneratedScenario};

fn spec(topic: &str, prompt_type: PromptType, language: Option<Language>, length: Length) -> ScenarioSpec {
    GenerationOptions { prompt_type, length, language, ..Default::default() }.resolve(Topic::parse(topic).unwrap())
}

async fn generate(spec: &ScenarioSpec) -> GeneratedScenario {
    let request = ModelRequest::new(spec.clone(), None, prompts::build(spec, None).unwrap());
    let output = Offline.generate(&request).await.unwrap();
    assert_eq!(output.model, Offline::MODEL);
    parse_model_output(&output.text).unwrap()
}

fn all_text(s: &GeneratedScenario) -> Vec<&str> {
    let mut texts = vec![s.title(), s.summary()];
    for section in s.sections() {
        texts.push(&section.heading);
        texts.push(&section.body);
    }
    texts.extend(s.choices().iter().map(|c| c.text.as_str()));
    texts
}

#[tokio::test]
async fn every_prompt_type_language_and_length_gives_a_valid_scenario() {
    let topics = [(Language::En, "What if the Moon vanished?"), (Language::Vi, "Nếu Mặt Trăng biến mất thì sao?")];
    for (language, topic) in topics {
        for prompt_type in PromptType::ALL {
            for length in Length::ALL {
                let s = generate(&spec(topic, prompt_type, Some(language), length)).await;
                let sections = s.sections().len();
                let choices = s.choices().len();
                let expected = match length {
                    Length::Short => 3,
                    Length::Medium => 4,
                    Length::Long => 5,
                };
                assert_eq!(sections, expected, "{language} {prompt_type} {length}");
                assert!((2..=4).contains(&choices), "{language} {prompt_type} {length}: {choices} choices");
                let ids: Vec<_> = s.choices().iter().map(|c| c.id.as_str()).collect();
                assert_eq!(ids, ["a", "b", "c", "d"][..choices]);
                assert!(s.content().starts_with("## "));
                let premise = if language == Language::En { "the Moon vanished" } else { "Mặt Trăng biến mất" };
                assert!(s.summary().contains(premise), "{}", s.summary());
                for text in all_text(&s) {
                    assert!(!text.contains('{') && !text.contains('}'), "a placeholder is left: {text}");
                }
            }
        }
    }
}

#[tokio::test]
async fn vietnamese_scenarios_are_written_in_vietnamese() {
    for prompt_type in PromptType::ALL {
        // The language is detected from the topic.
        let s = generate(&spec("Nếu con người có thể bay thì sao?", prompt_type, None, Length::Long)).await;
        for text in all_text(&s) {
            assert_eq!(Language::detect(text), Language::Vi, "{prompt_type}: not Vietnamese: {text}");
        }
        let en = generate(&spec("What if people could fly?", prompt_type, None, Length::Long)).await;
        for text in all_text(&en) {
            assert_eq!(Language::detect(text), Language::En, "{prompt_type}: not English: {text}");
        }
    }
    let s = generate(&spec("Nếu con người có thể bay thì sao?", PromptType::Default, None, Length::Short)).await;
    assert!(s.summary().contains("con người có thể bay"), "{}", s.summary());
}

#[tokio::test]
async fn the_same_seed_gives_the_same_scenario_and_seeds_vary_it() {
    let a = spec("What if dinosaurs never went extinct?", PromptType::SciFi, None, Length::Medium);
    let b = spec("what if dinosaurs never went extinct?  ", PromptType::SciFi, None, Length::Medium);
    assert_eq!(a.seed(), b.seed());
    assert_eq!(generate(&a).await, generate(&b).await);
    assert_eq!(Offline::compose(&a, None, 42).unwrap(), Offline::compose(&a, None, 42).unwrap());

    let distinct: std::collections::HashSet<String> =
        (0..16).map(|seed| Offline::compose(&a, None, seed).unwrap().content().to_string()).collect();
    assert!(distinct.len() > 1, "different seeds should vary the scenario");
}

#[tokio::test]
async fn a_continuation_follows_the_chosen_branch() {
    let s = spec("What if the Moon vanished?", PromptType::Default, None, Length::Short);
    let parent = ParentContext {
        title: "What if the Moon vanished?".into(),
        summary: "Tides shrink.".into(),
        choice: "Build an artificial moon.".into(),
    };
    let child = Offline::compose(&s, Some(&parent), s.seed()).unwrap();
    assert_eq!(child.title(), "Build an artificial moon");
    assert!(child.summary().starts_with("Continuing “What if the Moon vanished?”"), "{}", child.summary());
}

#[tokio::test]
async fn the_longest_topic_still_fits_the_schema() {
    let topic = format!("What if {}?", "the quick brown fox jumped over the lazy dog ".repeat(10).trim());
    assert!(topic.chars().count() <= 500);
    for language in Language::ALL {
        for prompt_type in PromptType::ALL {
            let s = Offline::compose(&spec(&topic, prompt_type, Some(language), Length::Long), None, 7).unwrap();
            assert!(s.title().chars().count() <= 200, "{}", s.title());
        }
    }
}
