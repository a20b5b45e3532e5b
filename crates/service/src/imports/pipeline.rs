//! An import's batches on their way to the ledger: a chunk is planned while the writer takes the
//! batch before it, batches are handed on without waiting for their commit (the writer keeps one
//! transaction open over many of them, see `konsent_store::group`), and what each made known
//! stays with the planner until its commit is seen.

use std::collections::VecDeque;

use konsent_domain::ledger::EventBody;
use konsent_formats::import::{ImportRow, RowError};
use konsent_store::SideWrite;
use konsent_store::ledger::Commit;

use super::ImportReport;
use super::run::{Batch, Env, Known};
use crate::context::{Konsent, Submission};
use crate::error::ServiceError;

/// Where a step ends: rows read, whether the file is at its end, and how its batch commits
/// (durable at the file's end; the transaction left open within `--batch-rows`).
#[derive(Clone, Copy)]
pub(super) struct Step {
    pub(super) rows_done: u64,
    pub(super) done: bool,
    pub(super) commit: Commit,
}

/// A batch handed to the writer (none for a dry run's), with the import's progress and report
/// as of its last row, and what it made known until its commit is seen.
struct InFlight {
    submission: Option<Submission>,
    rows_done: u64,
    report: ImportReport,
    known: Known,
}

/// The batches handed to the writer whose commit is not yet seen, oldest first.
#[derive(Default)]
pub(super) struct Flight {
    queue: VecDeque<InFlight>,
    /// Rows the last batch handed on reaches (at first: where the run resumes).
    handed: u64,
    /// The report as of the last batch whose commit was seen.
    landed: Option<ImportReport>,
}

impl Flight {
    /// Before the first batch of a run that resumes after `rows` rows.
    pub(super) fn after(rows: u64) -> Self {
        Flight { handed: rows, ..Default::default() }
    }

    /// What the batches in flight made known, oldest first.
    pub(super) fn known(&self) -> impl DoubleEndedIterator<Item = &Known> {
        self.queue.iter().map(|f| &f.known)
    }
}

impl Konsent {
    /// Plans a chunk while the writer takes the batch before it (two cores at work), then tells
    /// `progress` how far the taken batches reach and hands this chunk's batch on. `Some(report)`:
    /// stopped, with the report of what is committed (everything handed on; the chunk just
    /// planned is dropped unwritten).
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn step(
        &self,
        env: &Env<'_>,
        chunk: Vec<Result<ImportRow, RowError>>,
        batch: &mut Batch,
        report: &mut ImportReport,
        step: Step,
        progress: &(dyn Fn(u64) -> bool + Send + Sync),
    ) -> Result<Option<ImportReport>, ServiceError> {
        let last = batch.flight.queue.back_mut();
        let taken_rows = last.as_ref().map(|f| f.rows_done);
        let taken = last.and_then(|f| f.submission.as_mut()).map(Submission::when_taken);
        let taken = async {
            if let Some(t) = taken {
                t.await;
            }
        };
        let ((), planned) = tokio::join!(taken, self.import_chunk(env, chunk, batch, report));
        planned?;
        self.reap(batch)?;
        if let Some(rows_done) = taken_rows
            && !progress(rows_done)
        {
            self.land(batch).await?;
            let mut r = batch.flight.landed.take().unwrap_or_else(|| report.clone());
            r.stopped = true;
            return Ok(Some(r));
        }
        let w = self.take_writes(env, batch, report, step);
        let submission = match (w.events.is_empty() && w.side.is_empty(), env.opts.dry_run) {
            (false, false) => {
                // Batches before the last skip the log's flush: a power failure may take them
                // back, and the import then resumes after the last durable one. The last
                // batch's flush makes the whole import durable before it reports done.
                let label = format!("import {}", env.import_id);
                Some(self.submit_batch(env.tenant, env.actor, label, w.events, w.side, step.commit).await?)
            }
            _ => None,
        };
        let f = InFlight { submission, rows_done: step.rows_done, report: w.report, known: w.known };
        batch.flight.queue.push_back(f);
        batch.flight.handed = step.rows_done;
        Ok(None)
    }

    /// Forgets the batches whose commit is seen, oldest first, with what they made known (the
    /// store shows it now); a failed commit fails the import, which resumes after the last one.
    fn reap(&self, batch: &mut Batch) -> Result<(), ServiceError> {
        let flight = &mut batch.flight;
        while let Some(f) = flight.queue.front_mut() {
            if let Some(s) = f.submission.as_mut() {
                match s.try_committed(self) {
                    None => break,
                    Some(r) => {
                        r?;
                    }
                }
            }
            flight.landed = flight.queue.pop_front().map(|f| f.report);
        }
        Ok(())
    }

    /// Waits for every batch handed on to commit.
    pub(super) async fn land(&self, batch: &mut Batch) -> Result<(), ServiceError> {
        let flight = &mut batch.flight;
        while let Some(f) = flight.queue.pop_front() {
            if let Some(s) = f.submission {
                s.committed(self).await?;
            }
            flight.landed = Some(f.report);
        }
        Ok(())
    }

    /// Takes the batch's writes with the import's progress (a dry run only forgets its writes).
    fn take_writes(&self, env: &Env<'_>, batch: &mut Batch, report: &ImportReport, step: Step) -> Writes {
        // The next batch's lists start at this one's size: grown by doubling, they held up to
        // twice what they needed and copied every event at each step.
        let (n, m) = (batch.events.len(), batch.side.len());
        let mut events = std::mem::replace(&mut batch.events, Vec::with_capacity(n + n / 16));
        let mut side = std::mem::replace(&mut batch.side, Vec::with_capacity(m + m / 16));
        batch.rows = 0;
        let snapshot = report.clone();
        if env.opts.dry_run {
            // A dry run keeps what the whole file made known: nothing reaches the store.
            return Writes { events: vec![], side: vec![], report: snapshot, known: Known::default() };
        }
        // What this batch made known goes in flight until its commit is seen.
        let known = std::mem::take(&mut batch.known);
        if step.done {
            events.push(self.pending(
                env.actor,
                EventBody::ImportCompleted {
                    import_id: env.import_id.clone(),
                    file_sha256: env.file_sha256.clone(),
                    format: env.opts.format.as_str().into(),
                    provider: env.provider.clone(),
                    rows: report.rows,
                    outcomes: report.outcomes.clone(),
                    at: self.now(),
                },
            ));
        }
        side.push(SideWrite::ImportProgress {
            id: env.import_id.clone(),
            file_sha256: env.file_sha256.clone(),
            format: env.opts.format.as_str().into(),
            state: if step.done { "done" } else { "running" }.into(),
            rows_done: step.rows_done as i64,
            report: serde_json::to_string(report).unwrap_or_default(),
            after: batch.flight.handed as i64,
        });
        Writes { events, side, report: snapshot, known }
    }
}

/// A batch's writes, with the report as of its last row and what the batch made known.
struct Writes {
    events: Vec<konsent_store::PendingEvent>,
    side: Vec<SideWrite>,
    report: ImportReport,
    known: Known,
}
