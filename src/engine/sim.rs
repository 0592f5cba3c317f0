//! The month loop of one replicate, ensembles of replicates, and the conservation check.

use std::borrow::Cow;

use rand::{Rng as _, RngExt};
use rand_distr::{Distribution, Poisson};
use rayon::prelude::*;

use super::agents::Block;
use super::choice::Choices;
use super::drivers::{self, History};
use super::invariant::check_wake_ups;
use super::model::{Model, RouteId};
use super::rng::{Purpose, stream};
use super::step::MonthCtx;
use super::tables::{Tables, pick};
use super::tally::{FlowKind, LifeState, Observer, YearTally};

/// A run that broke an invariant. Never expected: it means a bug, and the run's output is void.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// Agents were lost or double-counted.
    #[error(
        "conservation violated in replicate {replicate}: {created} agents created, {counted} counted in states, {tracked} in the running stock counts"
    )]
    Conservation {
        /// Replicate index.
        replicate: u32,
        /// Agents created.
        created: u64,
        /// Agents found in some state by a full recount.
        counted: u64,
        /// Agents in the incrementally maintained stocks.
        tracked: u64,
    },
    /// An agent holds a state index that is not a state.
    #[error("agent {agent} of replicate {replicate} has invalid state {state}")]
    InvalidState {
        /// Replicate index.
        replicate: u32,
        /// Agent index.
        agent: u64,
        /// The invalid value.
        state: u8,
    },
    /// An agent's pending wake-ups do not match its state.
    #[error(
        "wake-up invariant violated in replicate {replicate} at the end of month {month}: agent {agent} ({state}) {problem}"
    )]
    WakeUp {
        /// Replicate index.
        replicate: u32,
        /// Month (0 = January of the first year).
        month: u32,
        /// Agent index.
        agent: u64,
        /// Its state.
        state: &'static str,
        /// What is wrong.
        problem: String,
    },
    /// The number of leavers of a month cannot be drawn (its expectation is not finite or too
    /// large for a Poisson draw).
    #[error(
        "replicate {replicate}, month {month}: cannot draw the number of leavers from an expected {lambda:e} agents (raise run.persons_per_agent or lower the exit rate)"
    )]
    ExitDraw {
        /// Replicate index.
        replicate: u32,
        /// Month.
        month: u32,
        /// The expected number of leavers (agents).
        lambda: f64,
    },
    /// The run would create more agents than one replicate can index.
    #[error("replicate {replicate} needs more than {limit} agents; raise run.persons_per_agent")]
    TooManyAgents {
        /// Replicate index.
        replicate: u32,
        /// The limit.
        limit: u64,
    },
}

/// What one replicate did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RunStats {
    /// Agents created.
    pub agents_created: u64,
    /// Months lived inside the simulation, summed over agents (from creation to the end).
    pub agent_months: u64,
    /// Scheduled wake-ups processed.
    pub events: u64,
    /// Months simulated (fewer than the run's when the observer stopped it early).
    pub months: u64,
}

impl std::ops::Add for RunStats {
    type Output = RunStats;
    fn add(self, o: RunStats) -> RunStats {
        RunStats {
            agents_created: self.agents_created + o.agents_created,
            agent_months: self.agent_months + o.agent_months,
            events: self.events + o.events,
            months: self.months + o.months,
        }
    }
}

/// A uniform in [0, 1) from 32 random bits.
#[inline]
fn unit(bits: u64) -> f64 {
    bits as f64 * (1.0 / 4_294_967_296.0)
}

/// Most agents a replicate may create (block-local indices are 16 bits, blocks 32 bits).
const MAX_AGENTS: u64 = 1 << 40;

/// A model ready to run.
pub struct Simulation<'m> {
    model: &'m Model,
    tables: Tables,
    check: bool,
}

impl<'m> Simulation<'m> {
    /// Precomputes the lookup tables of `model`. Debug builds (and so tests) check the
    /// wake-up invariant as they run.
    pub fn new(model: &'m Model) -> Self {
        Simulation {
            model,
            tables: Tables::new(model),
            check: cfg!(debug_assertions),
        }
    }

    /// Also checks the wake-up invariant (`engine::invariant`) at every year's end in a
    /// release build; results are the same either way.
    #[must_use]
    pub fn checked(mut self, on: bool) -> Self {
        self.check |= on;
        self
    }

    /// The model.
    pub fn model(&self) -> &Model {
        self.model
    }

    /// Runs replicate `replicate` with master seed `seed`, reporting each year to `observer`.
    ///
    /// The result depends only on `(model, seed, replicate)`, never on the thread count.
    pub fn run<O: Observer>(
        &self,
        seed: u64,
        replicate: u32,
        observer: &mut O,
    ) -> Result<RunStats, EngineError> {
        let base = self.model;
        let months = base.months();
        let n_places = base.places.len();
        // A run whose parameters follow drivers changes its own copies of them, year by year.
        let mut model: Cow<'_, Model> = if base.driven.is_empty() {
            Cow::Borrowed(base)
        } else {
            Cow::Owned(base.clone())
        };
        let mut tables: Cow<'_, Tables> = if self.tables.driven {
            Cow::Owned(self.tables.clone())
        } else {
            Cow::Borrowed(&self.tables)
        };
        let mut choices = Choices::new(n_places);
        let mut history = History::new(base);
        let mut network = vec![1.0; n_places];
        let mut referrals: Vec<Vec<(RouteId, f64)>> = vec![Vec::new(); n_places];
        let mut departures = vec![0u32; n_places];
        let mut blocks: Vec<Block> = Vec::new();
        let mut stats = RunStats::default();

        self.create_initial(seed, replicate, &mut blocks, &mut stats)?;
        history.record(base, &blocks);

        for month in 0..months {
            let year = (month / 12) as usize;
            if month % 12 == 0 {
                if !base.driven.is_empty() {
                    drivers::apply(model.to_mut(), base, &history, year);
                    if tables.driven {
                        tables.to_mut().refresh_year(&model, year);
                    }
                }
                drivers::network(base, &history, year, &mut network);
                choices.refresh(&model, &tables, year, &network);
            }
            self.update_referrals(&model, year, &departures, &mut referrals);
            let ctx = MonthCtx {
                model: &model,
                tables: &tables,
                choices: &choices,
                referrals: &referrals,
                month,
                months,
                year,
                horizon: (12 * (year as u32 + 1)).min(months),
            };
            if month == 0 {
                for (b, block) in blocks.iter_mut().enumerate() {
                    let mut rng = stream(seed, replicate, Purpose::Initial, 1, b as u32);
                    block.start_initial(&ctx, &mut rng);
                }
            }

            // New leavers, from their own stream, appended in creation order.
            let mut exit_rng = stream(seed, replicate, Purpose::Exit, month, 0);
            let lambda = exit_lambda(&model, &choices, year);
            // A draw that cannot be made is an error, never zero leavers.
            let n = if lambda == 0.0 {
                0
            } else {
                let d = Poisson::new(lambda).map_err(|_| EngineError::ExitDraw {
                    replicate,
                    month,
                    lambda,
                })?;
                d.sample(&mut exit_rng) as u64
            };
            if stats.agents_created + n > MAX_AGENTS {
                return Err(EngineError::TooManyAgents {
                    replicate,
                    limit: MAX_AGENTS,
                });
            }
            let origin = &model.origin;
            let crossings = &choices.cum[usize::from(origin.place)];
            for _ in 0..n {
                // One 64-bit draw gives two 32-bit uniforms (sex, route); another the age.
                let bits = exit_rng.next_u64();
                let female = unit(bits >> 32) < origin.female_share[year];
                let route = pick(crossings, unit(bits & 0xFFFF_FFFF))
                    .expect("exits only when a crossing is open");
                let age = origin.age.at(exit_rng.random());
                // Truncation is flooring here: birth years are positive.
                let born = (f64::from(model.year(year)) - age) as i16;
                if blocks.last().is_none_or(Block::is_full) {
                    blocks.push(Block::new(months, n_places, self.check));
                }
                let block = blocks.last_mut().expect("a block");
                block.create(&ctx, &mut exit_rng, route, female, born);
            }
            stats.agents_created += n;
            stats.agent_months += n * u64::from(months - month);

            // Everyone due this month, block by block; each block has its own stream.
            let step = |(b, block): (usize, &mut Block)| {
                if !block.calendar.is_empty(month) || (month % 12 == 0 && block.has_waiting()) {
                    let mut rng = stream(seed, replicate, Purpose::Transition, month, b as u32);
                    block.step(&ctx, &mut rng);
                }
            };
            // (Which thread runs a block never matters; with one thread, skip rayon's splitting.)
            if blocks.len() > 1 && rayon::current_num_threads() > 1 {
                blocks.par_iter_mut().enumerate().for_each(step);
            } else {
                blocks.iter_mut().enumerate().for_each(step);
            }

            history.record(base, &blocks);
            sum_departures(&mut blocks, &mut departures);
            if month % 12 == 11 {
                history.close_year(base);
                let tally = self.year_tally(year, &mut blocks);
                let total: u64 = tally.stocks.iter().sum();
                let ppa = u64::from(base.persons_per_agent);
                if total != stats.agents_created * ppa {
                    return Err(EngineError::Conservation {
                        replicate,
                        created: stats.agents_created,
                        counted: total / ppa,
                        tracked: total / ppa,
                    });
                }
                observer.year_end(&tally);
                if self.check {
                    check_wake_ups(replicate, month, &blocks)?;
                }
            }
            stats.months += 1;
            if month % 12 == 11 && observer.done() {
                break;
            }
        }

        stats.events = blocks.iter().map(|b| b.events).sum();
        conservation(replicate, &blocks, stats.agents_created)?;
        Ok(stats)
    }

    /// Runs replicates `first..first + count` in parallel; results come back in replicate order.
    pub fn run_ensemble<O, F>(
        &self,
        seed: u64,
        first: u32,
        count: u32,
        make_observer: F,
    ) -> Result<Vec<(O, RunStats)>, EngineError>
    where
        O: Observer + Send,
        F: Fn(u32) -> O + Sync,
    {
        (first..first + count)
            .into_par_iter()
            .map(|r| {
                let mut obs = make_observer(r);
                let stats = self.run(seed, r, &mut obs)?;
                Ok((obs, stats))
            })
            .collect()
    }

    /// Creates the agents of the starting stocks, in declaration order (their first events are
    /// scheduled once the first year's hazards are known).
    fn create_initial(
        &self,
        seed: u64,
        replicate: u32,
        blocks: &mut Vec<Block>,
        stats: &mut RunStats,
    ) -> Result<(), EngineError> {
        let model = self.model;
        let total: u64 = model.initial.iter().map(|s| s.agents).sum();
        if total > MAX_AGENTS {
            return Err(EngineError::TooManyAgents {
                replicate,
                limit: MAX_AGENTS,
            });
        }
        let months = model.months();
        let n_places = model.places.len();
        let mut rng = stream(seed, replicate, Purpose::Initial, 0, 0);
        for stock in &model.initial {
            for _ in 0..stock.agents {
                let female = rng.random::<f64>() < stock.female_share;
                let age = stock.age.at(rng.random());
                let born = (f64::from(model.start_year) - age) as i16;
                let waited = stock.months_in_state.sample_from_zero(&mut rng);
                if blocks.last().is_none_or(Block::is_full) {
                    blocks.push(Block::new(months, n_places, self.check));
                }
                let block = blocks.last_mut().expect("a block");
                block.create_initial(stock.state, stock.place, female, born, waited);
            }
        }
        stats.agents_created += total;
        stats.agent_months += total * u64::from(months);
        Ok(())
    }

    /// This month's referral probabilities, from last month's movers at each transit place.
    fn update_referrals(
        &self,
        model: &Model,
        y: usize,
        departures: &[u32],
        referrals: &mut [Vec<(RouteId, f64)>],
    ) {
        let ppa = f64::from(model.persons_per_agent);
        for list in referrals.iter_mut() {
            list.clear();
        }
        for h in model.hosts.iter().flatten() {
            let Some(r) = h.resettlement_route else {
                continue;
            };
            let route = &model.routes[usize::from(r)];
            let quota = h.resettlement_quota[y];
            if quota <= 0.0 || route.weight[y] <= 0.0 {
                continue;
            }
            let from = usize::from(route.from);
            let movers = f64::from(departures[from].max(1));
            let prob = (quota / 12.0 / ppa / movers).min(1.0);
            referrals[from].push((r, prob));
        }
    }

    /// Sums the blocks' counts into the year's tally (in persons) and resets their flows.
    fn year_tally(&self, year: usize, blocks: &mut [Block]) -> YearTally {
        let n = self.model.places.len();
        let ppa = u64::from(self.model.persons_per_agent);
        let mut flows = vec![0u64; FlowKind::COUNT * n * 2];
        let mut stocks = vec![0u64; LifeState::COUNT * n * 2];
        for block in blocks.iter_mut() {
            for (f, b) in flows.iter_mut().zip(block.flows.iter_mut()) {
                *f += u64::from(*b);
                *b = 0;
            }
            for (s, b) in stocks.iter_mut().zip(&block.stocks) {
                *s += u64::try_from(*b).unwrap_or(0);
            }
        }
        flows.iter_mut().for_each(|f| *f *= ppa);
        stocks.iter_mut().for_each(|s| *s *= ppa);
        YearTally {
            year: self.model.year(year),
            n_places: n,
            flows,
            stocks,
        }
    }
}

/// Expected exit attempts (agents) this month; none while every crossing is closed.
fn exit_lambda(model: &Model, choices: &Choices, y: usize) -> f64 {
    let o = &model.origin;
    if choices.cum[usize::from(o.place)].is_empty() {
        return 0.0;
    }
    o.population[y] * o.base_rate[y] * o.push[y] * (1.0 - o.family_pressure[y])
        / f64::from(model.persons_per_agent)
}

/// Adds up and resets the blocks' counts of people who set out from each place this month.
fn sum_departures(blocks: &mut [Block], departures: &mut [u32]) {
    departures.iter_mut().for_each(|d| *d = 0);
    for block in blocks.iter_mut() {
        for (a, d) in departures.iter_mut().zip(block.departures.iter_mut()) {
            *a += *d;
            *d = 0;
        }
    }
}

/// Recounts every agent's state from the columns and compares, block by block, with the
/// running counts.
fn conservation(replicate: u32, blocks: &[Block], created: u64) -> Result<(), EngineError> {
    let mut counted = 0u64;
    let mut tracked = 0i64;
    let mut consistent = true;
    for (b, block) in blocks.iter().enumerate() {
        let n = block.n_places;
        let mut recount = vec![0i32; block.stocks.len()];
        for (i, c) in block.cols.core.iter().enumerate() {
            let state = usize::from(c.state);
            if state >= LifeState::COUNT {
                return Err(EngineError::InvalidState {
                    replicate,
                    agent: (b * super::agents::BLOCK_SIZE + i) as u64,
                    state: c.state,
                });
            }
            let sex = usize::from(c.flags & super::agents::FLAG_FEMALE);
            recount[(state * n + usize::from(c.place)) * 2 + sex] += 1;
        }
        counted += block.len() as u64;
        tracked += block.stocks.iter().map(|&s| i64::from(s)).sum::<i64>();
        consistent &= recount == block.stocks;
    }
    if counted != created || !consistent || tracked != created as i64 {
        return Err(EngineError::Conservation {
            replicate,
            created,
            counted,
            tracked: tracked.max(0) as u64,
        });
    }
    Ok(())
}
