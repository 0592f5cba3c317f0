//! One month of one block: the life-course state machine, applied to the agents due this month.
//!
//! Phase order within a month (see `sim`): (0) in January, parameters that follow drivers get
//! the year's values and route choice is refreshed; (1) the month's referrals are computed from
//! last month's movers; (2) new leavers are created; (3) every block processes the agents whose
//! wake-up falls in this month, in calendar order, each agent at most once; (4) block counts are
//! summed and the drivers' quantities read. An agent's next wake-up is always in a later month.

use rand::RngExt;
use rand_distr::{Distribution, Exp1};

use super::agents::{
    Block, DUE_HAZARD, DUE_REDRAW, DUE_TIMER, FLAG_CITIZEN, FLAG_DUE_HAZARD, FLAG_DUE_REDRAW,
    FLAG_FEMALE, FLAG_REFERRAL,
};
use super::choice::Choices;
use super::hazard::Hazard;
use super::model::{Model, PlaceKind, RouteId};
use super::prefetch::prefetch;
use super::rng::Rng;
use super::tables::{Tables, pick};
use super::tally::{FlowKind, LifeState};

/// Everything an agent may read this month besides its own columns.
pub(crate) struct MonthCtx<'a> {
    /// The run's model (its driven parameters hold this year's values).
    pub model: &'a Model,
    pub tables: &'a Tables,
    /// This year's route choice at every place.
    pub choices: &'a Choices,
    /// Per place: referral routes and the probability a mover takes each (from last month).
    pub referrals: &'a [Vec<(RouteId, f64)>],
    pub month: u32,
    pub months: u32,
    pub year: usize,
    /// First month whose hazards are not known yet where they follow drivers (next January).
    pub horizon: u32,
}

/// How many calendar entries ahead a record is prefetched.
const PREFETCH_DISTANCE: usize = 8;

/// Picks the first of `risks` whose cumulative share `x` falls into, `x` uniform on
/// `[0, Σ risks)`. Rounding can leave `x` at or past the sum: then the last risk that is not
/// zero is taken, never one that cannot happen.
#[inline]
fn competing<const N: usize>(mut x: f64, risks: [f64; N]) -> usize {
    for (k, &r) in risks.iter().enumerate() {
        x -= r;
        if x < 0.0 {
            return k;
        }
    }
    risks.iter().rposition(|&r| r > 0.0).unwrap_or(0)
}

impl Block {
    /// Processes every agent due in `ctx.month`.
    pub(crate) fn step(&mut self, ctx: &MonthCtx<'_>, rng: &mut Rng) {
        if ctx.month.is_multiple_of(12) && self.has_waiting() {
            self.release_waiting(ctx, rng);
        }
        while let Some((agents, n)) = self.calendar.pop_chunk(ctx.month) {
            self.events += n as u64;
            // The first records of a chunk are asked for at once; the rest a few ahead.
            for &a in &agents[..n.min(PREFETCH_DISTANCE)] {
                prefetch(&self.cols.core, usize::from(a));
            }
            for k in 0..n {
                // Agents are visited in calendar order, not index order: ask for the record of
                // the agent a few places ahead now, so that its cache miss overlaps this work.
                if k + PREFETCH_DISTANCE < n {
                    prefetch(&self.cols.core, usize::from(agents[k + PREFETCH_DISTANCE]));
                }
                let i = usize::from(agents[k]);
                if self.cols.core[i].flags & FLAG_DUE_REDRAW != 0 {
                    self.redraw(i, ctx, rng);
                } else {
                    self.handle(i, ctx, rng);
                }
            }
        }
    }

    fn handle(&mut self, i: usize, ctx: &MonthCtx<'_>, rng: &mut Rng) {
        let state = LifeState::from_index(self.cols.core[i].state).expect("valid state");
        match state {
            LifeState::Crossing | LifeState::Travelling => self.arrive(i, ctx, rng),
            LifeState::InTransit => self.transit_event(i, ctx, rng),
            LifeState::Detained => self.hand_over(i, ctx, rng),
            LifeState::Repatriated => self.punishment_over(i, ctx, rng),
            LifeState::Resettled => self.resettled_event(i, ctx, rng),
            LifeState::AsylumSeeker => {
                if self.cols.core[i].flags & FLAG_DUE_HAZARD == 0 {
                    self.decide(i, ctx, rng)
                } else {
                    self.die(i, ctx.month)
                }
            }
            LifeState::Refugee | LifeState::Complementary => self.protected_event(i, ctx, rng),
            LifeState::Irregular => self.irregular_event(i, ctx, rng),
            LifeState::Naturalised => self.die(i, ctx.month),
            LifeState::Returned | LifeState::Dead => {
                debug_assert!(false, "absorbing state scheduled");
            }
        }
    }

    // ----- scheduling -------------------------------------------------------------------

    #[inline(always)]
    fn after(&mut self, i: usize, ctx: &MonthCtx<'_>, months: u32) {
        self.schedule(i, ctx.month + months, DUE_TIMER);
    }

    /// The hazard an agent in a slowly changing state waits under (none for timed states).
    fn state_hazard<'t>(&self, i: usize, tables: &'t Tables) -> Option<&'t Hazard> {
        let c = self.cols.core[i];
        let (p, sex) = (usize::from(c.place), self.sex(i));
        match LifeState::from_index(c.state)? {
            LifeState::InTransit => Some(&tables.transit[p][sex].wait),
            LifeState::Resettled => Some(&tables.resettlement[p][sex].wait),
            LifeState::Refugee | LifeState::Complementary => {
                Some(&tables.host[p][sex].protected_wait)
            }
            LifeState::Irregular => Some(&tables.host[p][sex].irregular_wait),
            LifeState::Naturalised => Some(&tables.host[p][sex].death_wait),
            _ => None,
        }
    }

    /// Draws the month of agent `i`'s next event under its state's hazard, searching from
    /// `from`. A hazard that follows drivers is searched only up to the horizon; an agent whose
    /// event does not fall before it is woken there to draw again (exact: the wait is
    /// memoryless and the hazard constant within each year).
    fn draw_wait(&mut self, i: usize, ctx: &MonthCtx<'_>, rng: &mut Rng, from: u32) -> Option<u32> {
        let hazard = self.state_hazard(i, ctx.tables)?;
        let end = if hazard.is_driven() {
            ctx.horizon
        } else {
            ctx.months
        };
        let e: f64 = Exp1.sample(rng);
        let found = hazard.next_event(self.entered(i), from, end, e);
        if found.is_none() {
            if end < ctx.months {
                match hazard.queue() {
                    Some(q) => {
                        let threshold = hazard.threshold(from, e);
                        self.wait_in_queue(q, threshold, i);
                    }
                    None => self.schedule(i, end, DUE_REDRAW),
                }
            } else {
                // The event falls after the run: a wake-up there (dropped unless checking).
                self.schedule(i, ctx.months, DUE_HAZARD);
            }
        }
        found
    }

    /// In January, once this year's hazards are known: every agent waiting in a queue whose
    /// threshold the cumulative hazard reaches by the horizon gets its event month; an event
    /// that falls in this month happens now. The same month as a fresh draw in January would
    /// give in distribution (memorylessness), without drawing for those who keep waiting.
    /// Queues are released one after the other, each in increasing order of threshold; agents
    /// queued while they are handled wait beyond the horizon, so none is released twice.
    fn release_waiting(&mut self, ctx: &MonthCtx<'_>, rng: &mut Rng) {
        debug_assert!(ctx.month < ctx.horizon);
        let mut released = std::mem::take(&mut self.released);
        for (q, &of) in ctx.tables.queues.iter().enumerate() {
            let Some(queue) = self.waiting.get_mut(q) else {
                break;
            };
            let hazard = ctx.tables.queue_hazard(of);
            queue.release(hazard.reach(ctx.horizon), &mut released);
            for &a in &released[..released.len().min(PREFETCH_DISTANCE)] {
                prefetch(&self.cols.core, usize::from(a.agent()));
            }
            for (j, w) in released.iter().enumerate() {
                if let Some(ahead) = released.get(j + PREFETCH_DISTANCE) {
                    prefetch(&self.cols.core, usize::from(ahead.agent()));
                }
                let k = hazard
                    .event_at_threshold(ctx.month, ctx.horizon, w.threshold())
                    .expect("a released agent's event falls before the horizon");
                let i = usize::from(w.agent());
                if k == ctx.month {
                    self.events += 1;
                    self.cols.core[i].flags |= FLAG_DUE_HAZARD;
                    self.handle(i, ctx, rng);
                } else {
                    self.schedule(i, k, DUE_HAZARD);
                }
            }
        }
        self.released = released;
    }

    /// Schedules agent `i`'s next event in its (new) state, from next month on.
    fn hazard_wake(&mut self, i: usize, ctx: &MonthCtx<'_>, rng: &mut Rng) {
        if let Some(k) = self.draw_wait(i, ctx, rng, ctx.month + 1) {
            self.schedule(i, k, DUE_HAZARD);
        }
    }

    /// January after a hazard that follows drivers was known: draw again from this month on;
    /// an event that falls in this month happens now.
    fn redraw(&mut self, i: usize, ctx: &MonthCtx<'_>, rng: &mut Rng) {
        self.cols.core[i].flags &= !FLAG_DUE_REDRAW;
        match self.draw_wait(i, ctx, rng, ctx.month) {
            Some(k) if k == ctx.month => {
                self.cols.core[i].flags |= FLAG_DUE_HAZARD;
                self.handle(i, ctx, rng);
            }
            Some(k) => self.schedule(i, k, DUE_HAZARD),
            None => {}
        }
    }

    /// Timer or hazard, whichever comes first.
    fn timer_or_hazard(
        &mut self,
        i: usize,
        ctx: &MonthCtx<'_>,
        rng: &mut Rng,
        timer: u32,
        hazard: &Hazard,
    ) {
        let due_timer = ctx.month + timer;
        let e: f64 = Exp1.sample(rng);
        let since = i64::from(ctx.month);
        match hazard.next_event(since, ctx.month + 1, due_timer.min(ctx.months), e) {
            Some(k) if k < due_timer => self.schedule(i, k, DUE_HAZARD),
            _ => self.schedule(i, due_timer, DUE_TIMER),
        }
    }

    fn set_out(&mut self, i: usize, ctx: &MonthCtx<'_>, rng: &mut Rng, r: RouteId) {
        let route = &ctx.model.routes[usize::from(r)];
        let state = if route.from == ctx.model.origin.place {
            LifeState::Crossing
        } else {
            LifeState::Travelling
        };
        self.set_state(i, state, route.from, ctx.month);
        self.cols.core[i].route = r;
        let d = route.duration.sample(rng);
        self.after(i, ctx, d);
    }

    /// Sets out from `place` on a freely chosen route (the choice rule); `false` if no route
    /// may be taken this year.
    fn choose_and_set_out(
        &mut self,
        i: usize,
        ctx: &MonthCtx<'_>,
        rng: &mut Rng,
        place: u16,
    ) -> bool {
        match pick(&ctx.choices.cum[usize::from(place)], rng.random()) {
            Some(r) => {
                self.set_out(i, ctx, rng, r);
                true
            }
            None => false,
        }
    }

    fn die(&mut self, i: usize, month: u32) {
        let place = self.cols.core[i].place;
        let sex = self.sex(i);
        self.count_flow(FlowKind::Deaths, place, sex);
        if matches!(
            LifeState::from_index(self.cols.core[i].state),
            Some(LifeState::Crossing | LifeState::Travelling | LifeState::InTransit)
        ) {
            self.count_flow(FlowKind::DeathsInTransit, place, sex);
        }
        self.set_state(i, LifeState::Dead, place, month);
    }

    fn return_to_origin(&mut self, i: usize, ctx: &MonthCtx<'_>, from: u16) {
        let sex = self.sex(i);
        self.count_flow(FlowKind::Returns, from, sex);
        self.set_state(i, LifeState::Returned, ctx.model.origin.place, ctx.month);
    }

    // ----- arrest and repatriation --------------------------------------------------------

    /// Arrest at `place`: hand-over along `route` if there is one, else detention and
    /// repatriation.
    fn arrest(
        &mut self,
        i: usize,
        ctx: &MonthCtx<'_>,
        rng: &mut Rng,
        place: u16,
        route: Option<RouteId>,
    ) {
        let sex = self.sex(i);
        self.count_flow(FlowKind::Arrests, place, sex);
        match route {
            Some(r) => self.set_out(i, ctx, rng, r),
            None => {
                self.set_state(i, LifeState::Detained, place, ctx.month);
                let d = ctx.model.origin.detention.sample(rng);
                self.after(i, ctx, d);
            }
        }
    }

    fn hand_over(&mut self, i: usize, ctx: &MonthCtx<'_>, rng: &mut Rng) {
        let origin = &ctx.model.origin;
        let sex = self.sex(i);
        let arrested_at = self.cols.core[i].place;
        self.count_flow(FlowKind::Repatriations, arrested_at, sex);
        if rng.random::<f64>() < origin.detention_death[ctx.year] {
            self.set_state(i, LifeState::Repatriated, origin.place, ctx.month);
            self.die(i, ctx.month);
            return;
        }
        self.set_state(i, LifeState::Repatriated, origin.place, ctx.month);
        // Whether they will try again is decided now, with this year's probability: those who
        // stay need no wake-up at all.
        if rng.random::<f64>() < origin.reattempt[ctx.year] {
            let d = origin.punishment.sample(rng);
            self.after(i, ctx, d);
        }
    }

    /// Punishment is over for someone who decided to try again.
    fn punishment_over(&mut self, i: usize, ctx: &MonthCtx<'_>, rng: &mut Rng) {
        let origin = ctx.model.origin.place;
        if self.choose_and_set_out(i, ctx, rng, origin) {
            let sex = self.sex(i);
            self.count_flow(FlowKind::Reattempts, origin, sex);
        } else {
            // Every crossing is closed: look again in a year.
            self.after(i, ctx, 12);
        }
    }

    // ----- journeys ---------------------------------------------------------------------

    fn arrive(&mut self, i: usize, ctx: &MonthCtx<'_>, rng: &mut Rng) {
        let model = ctx.model;
        let r = self.cols.core[i].route;
        let route = &model.routes[usize::from(r)];
        let y = ctx.year;
        // One uniform decides death, then (rescaled to [0, 1) again) arrest.
        let u = rng.random::<f64>();
        let death = route.death[y];
        if u < death {
            self.die(i, ctx.month);
            return;
        }
        let mut arrest = route.arrest[y];
        if route.from == model.origin.place {
            arrest = 1.0 - (1.0 - arrest) * (1.0 - model.origin.border_enforcement[y]);
        }
        if (u - death) < arrest * (1.0 - death) {
            // A referral ends with the trip it was for.
            self.cols.core[i].flags &= !FLAG_REFERRAL;
            let fallback = model.transit[usize::from(route.from)]
                .as_ref()
                .and_then(|t| t.arrest_route);
            let place = route.from;
            self.arrest(i, ctx, rng, place, route.arrest_route.or(fallback));
            return;
        }
        let to = route.to;
        let sex = self.sex(i);
        match model.places[usize::from(to)].kind {
            PlaceKind::Transit => {
                self.count_flow(FlowKind::Arrivals, to, sex);
                self.enter_transit(i, ctx, rng, to);
            }
            PlaceKind::Resettlement => self.enter_resettlement(i, ctx, rng, to),
            PlaceKind::Host => {
                self.count_flow(FlowKind::Arrivals, to, sex);
                self.enter_host(i, ctx, rng, to);
            }
            PlaceKind::Origin => self.return_to_origin(i, ctx, route.from),
        }
    }

    /// Arrival in a host: a referred refugee is protected at once; otherwise the host registers
    /// the arrival as a refugee on a group basis (prima facie) or the arrival claims asylum.
    fn enter_host(&mut self, i: usize, ctx: &MonthCtx<'_>, rng: &mut Rng, to: u16) {
        let sex = self.sex(i);
        if self.cols.core[i].flags & FLAG_REFERRAL != 0 {
            self.cols.core[i].flags &= !FLAG_REFERRAL;
            self.count_flow(FlowKind::ResettlementArrivals, to, sex);
            self.enter_protected(i, ctx, rng, LifeState::Refugee, to);
            return;
        }
        let group = ctx.model.hosts[usize::from(to)]
            .as_ref()
            .map_or(0.0, |h| h.prima_facie[ctx.year]);
        if group > 0.0 && rng.random::<f64>() < group {
            self.count_flow(FlowKind::GroupRecognitions, to, sex);
            self.enter_protected(i, ctx, rng, LifeState::Refugee, to);
        } else {
            self.claim(i, ctx, rng, to);
        }
    }

    fn enter_transit(&mut self, i: usize, ctx: &MonthCtx<'_>, rng: &mut Rng, place: u16) {
        self.set_state(i, LifeState::InTransit, place, ctx.month);
        self.hazard_wake(i, ctx, rng);
    }

    fn transit_event(&mut self, i: usize, ctx: &MonthCtx<'_>, rng: &mut Rng) {
        let place = self.cols.core[i].place;
        let p = usize::from(place);
        let t = &ctx.tables.transit[p][self.sex(i)];
        let y = ctx.year;
        let x = rng.random::<f64>() * t.total[y];
        let risks = [
            t.arrest[y],
            t.death[y],
            t.move_on[y],
            t.return_home[y],
            t.claim[y],
        ];
        match competing(x, risks) {
            0 => {
                let route = ctx.model.transit[p].as_ref().and_then(|t| t.arrest_route);
                self.arrest(i, ctx, rng, place, route);
            }
            1 => self.die(i, ctx.month),
            2 => self.move_on(i, ctx, rng, place),
            3 => self.return_to_origin(i, ctx, place),
            _ => self.claim(i, ctx, rng, place),
        }
    }

    fn move_on(&mut self, i: usize, ctx: &MonthCtx<'_>, rng: &mut Rng, place: u16) {
        let p = usize::from(place);
        let mut chosen = None;
        for &(r, prob) in &ctx.referrals[p] {
            if rng.random::<f64>() < prob {
                self.cols.core[i].flags |= FLAG_REFERRAL;
                chosen = Some(r);
                break;
            }
        }
        let chosen = chosen.or_else(|| pick(&ctx.choices.cum[p], rng.random()));
        match chosen {
            Some(r) => {
                let sex = self.sex(i);
                self.count_flow(FlowKind::TransitDepartures, place, sex);
                self.departures[p] += 1;
                self.set_out(i, ctx, rng, r);
            }
            // Nowhere open to go: stay, and face the same hazards again.
            None => self.hazard_wake(i, ctx, rng),
        }
    }

    // ----- resettlement -------------------------------------------------------------------

    fn enter_resettlement(&mut self, i: usize, ctx: &MonthCtx<'_>, rng: &mut Rng, place: u16) {
        if self.cols.core[i].flags & FLAG_CITIZEN == 0 {
            self.cols.core[i].flags |= FLAG_CITIZEN;
            let sex = self.sex(i);
            self.count_flow(FlowKind::Arrivals, place, sex);
        }
        self.set_state(i, LifeState::Resettled, place, ctx.month);
        self.hazard_wake(i, ctx, rng);
    }

    fn resettled_event(&mut self, i: usize, ctx: &MonthCtx<'_>, rng: &mut Rng) {
        let place = self.cols.core[i].place;
        let p = usize::from(place);
        let h = &ctx.tables.resettlement[p][self.sex(i)];
        let y = ctx.year;
        let onward = h.onward[y] * h.onward_f.at(self.months_in_state(i, ctx.month));
        let x = rng.random::<f64>() * (h.calendar[y] + onward);
        match competing(x, [h.death[y], h.return_home[y], onward]) {
            0 => self.die(i, ctx.month),
            1 => self.return_to_origin(i, ctx, place),
            _ => {
                // Considering a move: go with probability W/(1+W) (thinning keeps this exact:
                // W is constant within the year), to a destination chosen by weight.
                if rng.random::<f64>() < ctx.choices.accept[p]
                    && let Some(r) = pick(&ctx.choices.cum[p], rng.random())
                {
                    let sex = self.sex(i);
                    let to = ctx.model.routes[usize::from(r)].to;
                    self.count_flow(FlowKind::OnwardDepartures, to, sex);
                    self.set_out(i, ctx, rng, r);
                } else {
                    self.hazard_wake(i, ctx, rng);
                }
            }
        }
    }

    // ----- asylum ---------------------------------------------------------------------------

    fn claim(&mut self, i: usize, ctx: &MonthCtx<'_>, rng: &mut Rng, host: u16) {
        let sex = self.sex(i);
        self.count_flow(FlowKind::Applications, host, sex);
        self.set_state(i, LifeState::AsylumSeeker, host, ctx.month);
        let h = ctx.model.hosts[usize::from(host)]
            .as_ref()
            .expect("claims are made in hosts");
        let wait = h.processing.sample(rng);
        let death = &ctx.tables.host[usize::from(host)][sex].death_wait;
        self.timer_or_hazard(i, ctx, rng, wait, death);
    }

    fn decide(&mut self, i: usize, ctx: &MonthCtx<'_>, rng: &mut Rng) {
        let host = self.cols.core[i].place;
        let h = ctx.model.hosts[usize::from(host)]
            .as_ref()
            .expect("claims are made in hosts");
        let y = ctx.year;
        let mut recognised = h.recognition[y];
        let mut complementary = h.complementary[y];
        if self.cols.core[i].flags & FLAG_CITIZEN != 0
            && rng.random::<f64>() < h.citizenship_check[y]
        {
            let keep = 1.0 - h.check_effect[y];
            recognised *= keep;
            complementary *= keep;
        }
        let sex = self.sex(i);
        let u = rng.random::<f64>();
        if u < recognised {
            self.count_flow(FlowKind::DecisionsRecognized, host, sex);
            self.enter_protected(i, ctx, rng, LifeState::Refugee, host);
        } else if u < recognised + complementary {
            self.count_flow(FlowKind::DecisionsComplementary, host, sex);
            self.enter_protected(i, ctx, rng, LifeState::Complementary, host);
        } else {
            let kind = if u < recognised + complementary + h.closed[y] {
                FlowKind::DecisionsClosed
            } else {
                FlowKind::DecisionsRejected
            };
            self.count_flow(kind, host, sex);
            if rng.random::<f64>() < h.removal[y]
                && let Some(r) = h.removal_route
            {
                self.remove(i, ctx, rng, host, r);
            } else {
                self.set_state(i, LifeState::Irregular, host, ctx.month);
                self.hazard_wake(i, ctx, rng);
            }
        }
    }

    fn remove(&mut self, i: usize, ctx: &MonthCtx<'_>, rng: &mut Rng, host: u16, r: RouteId) {
        let sex = self.sex(i);
        self.count_flow(FlowKind::Removals, host, sex);
        self.set_out(i, ctx, rng, r);
    }

    fn enter_protected(
        &mut self,
        i: usize,
        ctx: &MonthCtx<'_>,
        rng: &mut Rng,
        state: LifeState,
        host: u16,
    ) {
        self.set_state(i, state, host, ctx.month);
        self.hazard_wake(i, ctx, rng);
    }

    /// Leaving a host along a freely chosen route; stays (and waits again) if none is open.
    fn depart_host(&mut self, i: usize, ctx: &MonthCtx<'_>, rng: &mut Rng, host: u16) {
        if self.choose_and_set_out(i, ctx, rng, host) {
            let sex = self.sex(i);
            self.count_flow(FlowKind::HostDepartures, host, sex);
        } else {
            self.hazard_wake(i, ctx, rng);
        }
    }

    fn protected_event(&mut self, i: usize, ctx: &MonthCtx<'_>, rng: &mut Rng) {
        let host = self.cols.core[i].place;
        let sex = self.sex(i);
        let hz = &ctx.tables.host[usize::from(host)][sex];
        let y = ctx.year;
        let naturalisation =
            hz.naturalisation[y] * hz.naturalisation_f.at(self.months_in_state(i, ctx.month));
        let x = rng.random::<f64>() * (hz.protected[y] + naturalisation);
        let risks = [
            hz.death[y],
            hz.departure[y],
            hz.cessation[y],
            naturalisation,
        ];
        match competing(x, risks) {
            0 => self.die(i, ctx.month),
            1 => self.depart_host(i, ctx, rng, host),
            2 => {
                self.count_flow(FlowKind::Cessations, host, sex);
                let h = ctx.model.hosts[usize::from(host)].as_ref().expect("host");
                if h.cessation_to_origin {
                    self.return_to_origin(i, ctx, host);
                } else {
                    self.set_state(i, LifeState::Irregular, host, ctx.month);
                    self.hazard_wake(i, ctx, rng);
                }
            }
            _ => {
                self.count_flow(FlowKind::Naturalisations, host, sex);
                self.set_state(i, LifeState::Naturalised, host, ctx.month);
                self.hazard_wake(i, ctx, rng);
            }
        }
    }

    fn irregular_event(&mut self, i: usize, ctx: &MonthCtx<'_>, rng: &mut Rng) {
        let host = self.cols.core[i].place;
        let hz = &ctx.tables.host[usize::from(host)][self.sex(i)];
        let y = ctx.year;
        let x = rng.random::<f64>() * hz.irregular[y];
        let risks = [
            hz.death[y],
            hz.irregular_removal[y],
            hz.irregular_departure[y],
        ];
        match competing(x, risks) {
            0 => self.die(i, ctx.month),
            1 => {
                let h = ctx.model.hosts[usize::from(host)].as_ref().expect("host");
                let r = h.removal_route.expect("removal hazard implies a route");
                self.remove(i, ctx, rng, host, r);
            }
            _ => self.depart_host(i, ctx, rng, host),
        }
    }

    // ----- new people ---------------------------------------------------------------------

    /// Creates a leaver in the origin, crossing on route `r`.
    pub(crate) fn create(
        &mut self,
        ctx: &MonthCtx<'_>,
        rng: &mut Rng,
        r: RouteId,
        female: bool,
        born: i16,
    ) {
        let origin = ctx.model.origin.place;
        let flags = if female { FLAG_FEMALE } else { 0 };
        let i = self.push(
            LifeState::Crossing,
            flags,
            origin,
            r,
            ctx.month as i32,
            born,
        );
        let sex = self.sex(i);
        self.count_flow(FlowKind::ExitAttempts, origin, sex);
        let d = ctx.model.routes[usize::from(r)].duration.sample(rng);
        self.after(i, ctx, d);
    }

    /// Schedules the first event of every agent of the starting stocks (all agents of the block
    /// at the start of the run), from the first month on. A claimant's decision comes after the
    /// rest of a processing time that is longer than the months already waited.
    pub(crate) fn start_initial(&mut self, ctx: &MonthCtx<'_>, rng: &mut Rng) {
        for i in 0..self.len() {
            let state = LifeState::from_index(self.cols.core[i].state).expect("valid state");
            if state == LifeState::AsylumSeeker {
                let host = usize::from(self.cols.core[i].place);
                let h = ctx.model.hosts[host]
                    .as_ref()
                    .expect("claims are made in hosts");
                let waited = self.months_in_state(i, 0);
                let wait = (0..100)
                    .map(|_| h.processing.sample(rng))
                    .find(|&d| d > waited)
                    .map_or(1, |d| d - waited);
                let death = &ctx.tables.host[host][self.sex(i)].death_wait;
                // The decision falls `wait` months after the start; death may come first.
                let e: f64 = Exp1.sample(rng);
                match death.next_event(0, 0, wait.min(ctx.months), e) {
                    Some(k) if k < wait => self.schedule(i, k, DUE_HAZARD),
                    _ => self.schedule(i, wait, DUE_TIMER),
                }
            } else if let Some(k) = self.draw_wait(i, ctx, rng, 0) {
                self.schedule(i, k, DUE_HAZARD);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::competing;

    #[test]
    fn competing_risks_never_pick_an_impossible_one() {
        assert_eq!(competing(0.05, [0.1, 0.2, 0.0]), 0);
        assert_eq!(competing(0.25, [0.1, 0.2, 0.0]), 1);
        // Rounding past the sum falls on the last possible risk, not on the zero one.
        assert_eq!(competing(0.3000001, [0.1, 0.2, 0.0]), 1);
        assert_eq!(competing(0.0, [0.0, 0.0, 0.3]), 2);
    }
}
