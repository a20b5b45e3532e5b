//! `konsent segment`: freezing a campaign's selection and exporting it for a tool.

use std::process::ExitCode;

use anyhow::Context;
use konsent_domain::channel::{Channel, ProductCategory};
use konsent_domain::ledger::Actor;
use konsent_domain::segment::{RobinsonPolicy, SegmentSpec, SourceFilter};
use konsent_formats::export::{ExportFormat, Lang};
use konsent_service::Konsent;

use super::pick_tenant;
use crate::args::SegmentAction;

fn day(s: &Option<String>, flag: &str) -> anyhow::Result<Option<jiff::Timestamp>> {
    s.as_deref()
        .map(|d| {
            let d: jiff::civil::Date = d
                .parse()
                .with_context(|| format!("{flag}: Datum als JJJJ-MM-TT angeben / must be a date YYYY-MM-DD"))?;
            Ok(d.to_zoned_datetime(jiff::tz::TimeZone::UTC)?.timestamp())
        })
        .transpose()
}

pub async fn segment(k: &Konsent, action: &SegmentAction) -> anyhow::Result<ExitCode> {
    let actor = Actor::User("cli".into());
    match action {
        SegmentAction::Create {
            name,
            channel,
            advertiser,
            categories,
            statuses,
            org_unit,
            source,
            provider,
            given_from,
            given_to,
            staleness_months,
            robinson_list,
            robinson_required,
            valid_days,
            json,
            tenant,
        } => {
            let t = pick_tenant(k, tenant.as_deref()).await?;
            let channel: Channel = channel.parse().map_err(|e| anyhow::anyhow!("--channel: {e}"))?;
            let source = match source.as_deref() {
                None => None,
                Some("first_party") => Some(SourceFilter::FirstParty),
                Some("third_party") => Some(SourceFilter::ThirdParty),
                Some(other) => anyhow::bail!(
                    "--source {other}: erlaubt sind first_party oder third_party / use first_party or third_party"
                ),
            };
            let mut cats = std::collections::BTreeSet::new();
            for c in categories.split(',').map(str::trim).filter(|c| !c.is_empty()) {
                cats.insert(ProductCategory::parse(c).map_err(|e| anyhow::anyhow!("--categories: {e}"))?);
            }
            let spec = SegmentSpec {
                name: name.clone(),
                channel,
                advertiser: advertiser
                    .parse()
                    .context("--advertiser: keine ID eines Werbenden / not an advertiser id")?,
                categories: cats,
                statuses: statuses
                    .split(',')
                    .map(str::trim)
                    .filter(|x| !x.is_empty())
                    .map(|x| {
                        serde_json::from_value(serde_json::Value::String(x.into())).with_context(|| {
                            format!(
                                "--statuses: {x} ist kein DPV-Status / is no DPV status (ConsentGiven, ConsentUnknown, …)"
                            )
                        })
                    })
                    .collect::<anyhow::Result<_>>()?,
                source,
                provider: provider.clone(),
                given_from: day(given_from, "--given-from")?,
                given_to: day(given_to, "--given-to")?,
                org_unit: org_unit
                    .as_deref()
                    .map(str::parse)
                    .transpose()
                    .context("--org-unit: keine ID einer Organisationseinheit / not an org unit id")?,
                staleness_months: *staleness_months,
                robinson: RobinsonPolicy {
                    required: *robinson_required,
                    list: robinson_list.clone(),
                    max_age_days: None,
                },
                valid_days: *valid_days,
            };
            let s = k.freeze_segment(t, &actor, spec).await?;
            if *json {
                println!("{}", serde_json::to_string_pretty(&s)?);
            } else {
                println!(
                    "Segment {} „{}“: {} Kontaktpunkte / contact points, {} erreichbar / included",
                    s.id, s.spec.name, s.members, s.included
                );
                for (reason, n) in &s.by_reason {
                    println!("  ausgeschlossen / out: {reason} {n}");
                }
                println!("  gültig bis / valid until {}", s.valid_until);
            }
            Ok(ExitCode::SUCCESS)
        }
        SegmentAction::List { tenant } => {
            let t = pick_tenant(k, tenant.as_deref()).await?;
            for s in k.segments(t).await? {
                println!(
                    "{}  {}  {}  {}/{}  bis/until {}",
                    s.id, s.frozen_at, s.spec.name, s.included, s.members, s.valid_until
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        SegmentAction::Export { id, format, out, no_use, english, tenant } => {
            let t = pick_tenant(k, tenant.as_deref()).await?;
            let format: ExportFormat = format.parse().map_err(|e| anyhow::anyhow!("--format: {e}"))?;
            let as_use = !no_use && format != ExportFormat::Dialer;
            let file = std::fs::File::create_new(out)
                .with_context(|| format!("Anlegen fehlgeschlagen / cannot create {}", out.display()))?;
            let lang = if *english { Lang::En } else { Lang::De };
            let segment = id.parse().context("keine Segment-ID / not a segment id")?;
            let request = konsent_service::segments::ExportRequest { segment, format, lang, as_use };
            let (mut written, s) = match k.export_segment(t, &actor, &request, std::io::BufWriter::new(file)).await {
                Ok(r) => r,
                Err(e) => {
                    let _ = std::fs::remove_file(out);
                    return Err(e.into());
                }
            };
            std::io::Write::flush(&mut written)
                .with_context(|| format!("Schreiben fehlgeschlagen / cannot write {}", out.display()))?;
            println!(
                "{} Kontakte / contacts → {}; {} seit dem Einfrieren geändert / changed since frozen, {} ohne Kontaktdaten / without contact data{}",
                s.rows,
                out.display(),
                s.changed,
                s.skipped,
                if s.as_use { "; als Nutzung protokolliert / logged as uses" } else { "" }
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}
