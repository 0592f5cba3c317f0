//! The month loop of one replicate, ensembles of replicates, and the conservation check.

use rand::{Rng as _, RngExt};
use rand_distr::{Distribution, Poisson};
use rayon::prelude::*;

use super::agents::Block;
use super::model::{Model, PlaceKind};
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
}

impl std::ops::Add for RunStats {
    type Output = RunStats;
    fn add(self, o: RunStats) -> RunStats {
        RunStats {
            agents_created: self.agents_created + o.agents_created,
            agent_months: self.agent_months + o.agent_months,
            events: self.events + o.events,
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
}

impl<'m> Simulation<'m> {
    /// Precomputes the lookup tables of `model`.
    pub fn new(model: &'m Model) -> Self {
        Simulation {
            model,
            tables: Tables::new(model),
        }
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
        let model = self.model;
        let months = model.months();
        let n_places = model.places.len();
        let mut blocks: Vec<Block> = Vec::new();
        let mut stats = RunStats::default();
        let mut network = Network::new(n_places);
        let mut ctx = MonthCtx::new(model, &self.tables);

        for month in 0..months {
            let year = (month / 12) as usize;
            self.update_ctx(&mut ctx, month, &network);

            // New leavers, from their own stream, appended in creation order.
            let mut exit_rng = stream(seed, replicate, Purpose::Exit, month, 0);
            let lambda = self.exit_lambda(year, network.resettled);
            let n = if lambda > 0.0 {
                Poisson::new(lambda).map_or(0, |d| d.sample(&mut exit_rng) as u64)
            } else {
                0
            };
            if stats.agents_created + n > MAX_AGENTS {
                return Err(EngineError::TooManyAgents {
                    replicate,
                    limit: MAX_AGENTS,
                });
            }
            let origin = &model.origin;
            let crossings = &self.tables.route_choice[usize::from(origin.place)][year];
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
                    blocks.push(Block::new(months, n_places));
                }
                let block = blocks.last_mut().expect("a block");
                block.create(&ctx, &mut exit_rng, route, female, born);
            }
            stats.agents_created += n;
            stats.agent_months += n * u64::from(months - month);

            // Everyone due this month, block by block; each block has its own stream.
            let step = |(b, block): (usize, &mut Block)| {
                if !block.calendar.is_empty(month) {
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

            network.update(model, &mut blocks);
            if month % 12 == 11 {
                let tally = self.year_tally(year, &mut blocks);
                let total: u64 = tally.stocks.iter().sum();
                let ppa = u64::from(model.persons_per_agent);
                if total != stats.agents_created * ppa {
                    return Err(EngineError::Conservation {
                        replicate,
                        created: stats.agents_created,
                        counted: total / ppa,
                        tracked: total / ppa,
                    });
                }
                observer.year_end(&tally);
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

    /// Expected exit attempts (agents) this month, from last month's resettled stock (persons).
    fn exit_lambda(&self, y: usize, resettled: f64) -> f64 {
        let model = self.model;
        let o = &model.origin;
        if self.tables.route_choice[usize::from(o.place)][y].is_empty() {
            return 0.0;
        }
        let elasticity = o.network_elasticity[y] * (1.0 - o.link_suppression[y]);
        let network = (1.0 + resettled / o.network_scale).powf(elasticity);
        o.population[y] * o.base_rate[y] * o.push[y] * (1.0 - o.family_pressure[y]) * network
            / f64::from(model.persons_per_agent)
    }

    /// Refreshes the month's context in place from last month's network stocks.
    fn update_ctx(&self, ctx: &mut MonthCtx<'_>, month: u32, net: &Network) {
        let model = self.model;
        let y = (month / 12) as usize;
        let ppa = f64::from(model.persons_per_agent);
        ctx.month = month;
        ctx.year = y;

        for (p, r) in model.resettlement.iter().enumerate() {
            let Some(r) = r else { continue };
            let lag_y = y.saturating_sub(r.acceptance_lag_years as usize);
            let choice = &mut ctx.onward[p];
            choice.cum.clear();
            let mut cum = 0.0;
            for &route_id in &self.tables.resettlement[p].onward_routes {
                let route = &model.routes[usize::from(route_id)];
                let to = usize::from(route.to);
                let Some(h) = model.hosts[to].as_ref() else {
                    continue;
                };
                if route.weight[y] <= 0.0 {
                    continue;
                }
                let acceptance = ((h.recognition[lag_y] + h.complementary[lag_y])
                    * (1.0 - h.citizenship_check[lag_y] * h.check_effect[lag_y]))
                    .clamp(0.0, 1.0);
                let w = route.weight[y]
                    * h.attraction[y]
                    * (1.0 + net.host_stock[to] / r.network_scale).powf(r.network_elasticity)
                    * acceptance.powf(r.acceptance_weight);
                if w > 0.0 {
                    cum += w;
                    choice.cum.push((route_id, cum));
                }
            }
            choice.accept = cum / (1.0 + cum);
        }

        for list in ctx.referrals.iter_mut() {
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
            let movers = f64::from(net.departures[from].max(1));
            let prob = (quota / 12.0 / ppa / movers).min(1.0);
            ctx.referrals[from].push((r, prob));
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

/// The stocks that feed back on behaviour, read at the end of each month for the next.
struct Network {
    /// Persons resettled (all resettlement places).
    resettled: f64,
    /// Persons living in each host, any status.
    host_stock: Vec<f64>,
    /// Agents who set out from each place this month.
    departures: Vec<u32>,
}

impl Network {
    fn new(n_places: usize) -> Network {
        Network {
            resettled: 0.0,
            host_stock: vec![0.0; n_places],
            departures: vec![0; n_places],
        }
    }

    /// Sums the few block counts that behaviour depends on, and resets monthly departures.
    fn update(&mut self, model: &Model, blocks: &mut [Block]) {
        let n = model.places.len();
        let ppa = f64::from(model.persons_per_agent);
        let count = |blocks: &[Block], state: LifeState, p: usize| -> f64 {
            let (m, f) = (
                YearTally::stock_index(n, state, p, 0),
                YearTally::stock_index(n, state, p, 1),
            );
            blocks
                .iter()
                .map(|b| f64::from(b.stocks[m] + b.stocks[f]))
                .sum()
        };
        self.resettled = (0..n)
            .filter(|&p| model.places[p].kind == PlaceKind::Resettlement)
            .map(|p| count(blocks, LifeState::Resettled, p))
            .sum::<f64>()
            * ppa;
        for (p, stock) in self.host_stock.iter_mut().enumerate() {
            *stock = if model.hosts[p].is_some() {
                LifeState::ALL
                    .iter()
                    .filter(|s| s.in_host())
                    .map(|&s| count(blocks, s, p))
                    .sum::<f64>()
                    * ppa
            } else {
                0.0
            };
        }
        self.departures.iter_mut().for_each(|d| *d = 0);
        for block in blocks.iter_mut() {
            for (a, d) in self.departures.iter_mut().zip(block.departures.iter_mut()) {
                *a += *d;
                *d = 0;
            }
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
