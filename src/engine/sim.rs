//! The month loop of one replicate, ensembles of replicates, and the conservation check.

use rand::RngExt;
use rand_distr::{Distribution, Poisson};
use rayon::prelude::*;

use super::agents::Block;
use super::model::{Model, PlaceKind, RouteId};
use super::rng::{Purpose, stream};
use super::step::{MonthCtx, OnwardChoice};
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
        let ppa = u64::from(model.persons_per_agent);
        let mut blocks: Vec<Block> = Vec::new();
        let mut stocks = vec![0i64; LifeState::COUNT * n_places * 2];
        let mut departures = vec![0u32; n_places];
        let mut stats = RunStats::default();

        for month in 0..months {
            let year = (month / 12) as usize;
            let ctx = self.month_ctx(month, &stocks, &departures);

            // New leavers, from their own stream, appended in creation order.
            let mut exit_rng = stream(seed, replicate, Purpose::Exit, month, 0);
            let lambda = self.exit_lambda(year, &stocks);
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
                let female = exit_rng.random::<f64>() < origin.female_share[year];
                let age = origin.age.sample(&mut exit_rng);
                let born = (model.year(year) as f64 - age).floor() as i16;
                let route =
                    pick(crossings, exit_rng.random()).expect("exits only when a crossing is open");
                if blocks.last().is_none_or(Block::is_full) {
                    blocks.push(Block::new(months, n_places));
                }
                blocks.last_mut().expect("a block").create(
                    &ctx,
                    &mut exit_rng,
                    route,
                    female,
                    born,
                );
            }
            stats.agents_created += n;
            stats.agent_months += n * u64::from(months - month);

            // Everyone due this month, block by block; each block has its own stream.
            let step = |(b, block): (usize, &mut Block)| {
                if !block.calendar[month as usize].is_empty() {
                    let mut rng = stream(seed, replicate, Purpose::Transition, month, b as u32);
                    block.step(&ctx, &mut rng);
                }
            };
            if blocks.len() > 1 {
                blocks.par_iter_mut().enumerate().for_each(step);
            } else {
                blocks.iter_mut().enumerate().for_each(step);
            }

            departures.iter_mut().for_each(|d| *d = 0);
            for block in blocks.iter_mut().filter(|b| b.touched) {
                for (s, d) in stocks.iter_mut().zip(block.stock_delta.iter_mut()) {
                    *s += i64::from(*d);
                    *d = 0;
                }
                for (a, d) in departures.iter_mut().zip(block.departures.iter_mut()) {
                    *a += *d;
                    *d = 0;
                }
                block.touched = false;
            }

            if month % 12 == 11 {
                let tally = self.year_tally(year, &mut blocks, &stocks, ppa);
                check_total(replicate, stats.agents_created, &stocks)?;
                observer.year_end(&tally);
            }
        }

        stats.events = blocks.iter().map(|b| b.events).sum();
        conservation(replicate, &blocks, &stocks, stats.agents_created)?;
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

    /// Expected exit attempts (agents) this month, from last month's resettled stock.
    fn exit_lambda(&self, y: usize, stocks: &[i64]) -> f64 {
        let model = self.model;
        let o = &model.origin;
        if self.tables.route_choice[usize::from(o.place)][y].is_empty() {
            return 0.0;
        }
        let n = model.places.len();
        let resettled: i64 = (0..n)
            .filter(|&p| model.places[p].kind == PlaceKind::Resettlement)
            .map(|p| stock_total(stocks, n, LifeState::Resettled, p))
            .sum();
        let resettled = resettled as f64 * f64::from(model.persons_per_agent);
        let elasticity = o.network_elasticity[y] * (1.0 - o.link_suppression[y]);
        let network = (1.0 + resettled / o.network_scale).powf(elasticity);
        o.population[y] * o.base_rate[y] * o.push[y] * (1.0 - o.family_pressure[y]) * network
            / f64::from(model.persons_per_agent)
    }

    fn month_ctx<'a>(&'a self, month: u32, stocks: &[i64], departures: &[u32]) -> MonthCtx<'a> {
        let model = self.model;
        let n = model.places.len();
        let y = (month / 12) as usize;
        let ppa = f64::from(model.persons_per_agent);

        let mut onward = vec![OnwardChoice::default(); n];
        for (p, r) in model.resettlement.iter().enumerate() {
            let Some(r) = r else { continue };
            let lag_y = y.saturating_sub(r.acceptance_lag_years as usize);
            let mut cum = 0.0;
            let mut choices = Vec::new();
            for &route_id in &self.tables.resettlement[p].onward_routes {
                let route = &model.routes[usize::from(route_id)];
                let to = usize::from(route.to);
                let Some(h) = model.hosts[to].as_ref() else {
                    continue;
                };
                if route.weight[y] <= 0.0 {
                    continue;
                }
                let stock: i64 = LifeState::ALL
                    .iter()
                    .filter(|s| s.in_host())
                    .map(|&s| stock_total(stocks, n, s, to))
                    .sum();
                let acceptance = ((h.recognition[lag_y] + h.complementary[lag_y])
                    * (1.0 - h.citizenship_check[lag_y] * h.check_effect[lag_y]))
                    .clamp(0.0, 1.0);
                let w = route.weight[y]
                    * h.attraction[y]
                    * (1.0 + stock as f64 * ppa / r.network_scale).powf(r.network_elasticity)
                    * acceptance.powf(r.acceptance_weight);
                if w > 0.0 {
                    cum += w;
                    choices.push((route_id, cum));
                }
            }
            onward[p] = OnwardChoice {
                accept: cum / (1.0 + cum),
                cum: choices,
            };
        }

        let mut referrals: Vec<Vec<(RouteId, f64)>> = vec![Vec::new(); n];
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

        MonthCtx {
            model,
            tables: &self.tables,
            month,
            months: model.months(),
            year: y,
            onward,
            referrals,
        }
    }

    fn year_tally(&self, year: usize, blocks: &mut [Block], stocks: &[i64], ppa: u64) -> YearTally {
        let n = self.model.places.len();
        let mut flows = vec![0u64; FlowKind::COUNT * n * 2];
        for block in blocks.iter_mut() {
            for (f, b) in flows.iter_mut().zip(block.flows.iter_mut()) {
                *f += u64::from(*b);
                *b = 0;
            }
        }
        flows.iter_mut().for_each(|f| *f *= ppa);
        let stocks = stocks.iter().map(|&s| s.max(0) as u64 * ppa).collect();
        YearTally {
            year: self.model.year(year),
            n_places: n,
            flows,
            stocks,
        }
    }
}

fn stock_total(stocks: &[i64], n: usize, state: LifeState, place: usize) -> i64 {
    stocks[YearTally::stock_index(n, state, place, 0)]
        + stocks[YearTally::stock_index(n, state, place, 1)]
}

fn check_total(replicate: u32, created: u64, stocks: &[i64]) -> Result<(), EngineError> {
    let tracked: i64 = stocks.iter().sum();
    if tracked != created as i64 || stocks.iter().any(|&s| s < 0) {
        return Err(EngineError::Conservation {
            replicate,
            created,
            counted: tracked.max(0) as u64,
            tracked: tracked.max(0) as u64,
        });
    }
    Ok(())
}

/// Recounts every agent's state from the columns and compares with the running counts.
fn conservation(
    replicate: u32,
    blocks: &[Block],
    stocks: &[i64],
    created: u64,
) -> Result<(), EngineError> {
    let n = stocks.len() / (LifeState::COUNT * 2);
    let mut recount = vec![0i64; stocks.len()];
    let mut counted = 0u64;
    for (b, block) in blocks.iter().enumerate() {
        for i in 0..block.len() {
            let raw = block.cols.state[i];
            let state = LifeState::from_index(raw).ok_or(EngineError::InvalidState {
                replicate,
                agent: (b * super::agents::BLOCK_SIZE + i) as u64,
                state: raw,
            })?;
            recount[YearTally::stock_index(
                n,
                state,
                usize::from(block.cols.place[i]),
                block.sex(i),
            )] += 1;
            counted += 1;
        }
    }
    let tracked: i64 = stocks.iter().sum();
    if counted != created || recount != stocks {
        return Err(EngineError::Conservation {
            replicate,
            created,
            counted,
            tracked: tracked.max(0) as u64,
        });
    }
    Ok(())
}
