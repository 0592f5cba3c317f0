//! One month of one block: the life-course state machine, applied to the agents due this month.
//!
//! Phase order within a month (see `sim`): (1) the month's context is computed from last
//! month's stocks; (2) new leavers are created; (3) every block processes the agents whose
//! wake-up falls in this month, in calendar order, each agent at most once; (4) block counts are
//! summed. An agent's next wake-up is always in a later month.

use rand::RngExt;
use rand_distr::{Distribution, Exp1};

use super::agents::{
    Block, DUE_HAZARD, DUE_TIMER, FLAG_CITIZEN, FLAG_DUE_HAZARD, FLAG_FEMALE, FLAG_REFERRAL,
};
use super::hazard::Hazard;
use super::model::{Model, PlaceKind, RouteId};
use super::prefetch::prefetch;
use super::rng::Rng;
use super::tables::{Tables, pick};
use super::tally::{FlowKind, LifeState};

/// Onward-migration choice at one resettlement place this month.
#[derive(Clone, Debug, Default)]
pub(crate) struct OnwardChoice {
    /// `(route, cumulative weight)` over routes to hosts.
    pub cum: Vec<(RouteId, f64)>,
    /// Probability that someone considering a move goes: `W / (1 + W)`.
    pub accept: f64,
}

/// Everything an agent may read this month besides its own columns; refreshed before the
/// blocks run, from last month's stocks.
pub(crate) struct MonthCtx<'a> {
    pub model: &'a Model,
    pub tables: &'a Tables,
    pub month: u32,
    pub months: u32,
    pub year: usize,
    /// Per place: onward choice (resettlement places only).
    pub onward: Vec<OnwardChoice>,
    /// Per place: referral routes and the probability a mover takes each.
    pub referrals: Vec<Vec<(RouteId, f64)>>,
}

impl<'a> MonthCtx<'a> {
    pub fn new(model: &'a Model, tables: &'a Tables) -> MonthCtx<'a> {
        let n = model.places.len();
        MonthCtx {
            model,
            tables,
            month: 0,
            months: model.months(),
            year: 0,
            onward: vec![OnwardChoice::default(); n],
            referrals: vec![Vec::new(); n],
        }
    }
}

/// How many calendar entries ahead a record is prefetched.
const PREFETCH_DISTANCE: usize = 8;

impl Block {
    /// Processes every agent due in `ctx.month`.
    pub(crate) fn step(&mut self, ctx: &MonthCtx<'_>, rng: &mut Rng) {
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
                self.handle(usize::from(agents[k]), ctx, rng);
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

    fn hazard_wake(&mut self, i: usize, ctx: &MonthCtx<'_>, rng: &mut Rng, hazard: &Hazard) {
        let e: f64 = Exp1.sample(rng);
        let since = u32::from(self.cols.core[i].since);
        if let Some(k) = hazard.next_event(since, ctx.month + 1, ctx.months, e) {
            self.schedule(i, k, DUE_HAZARD);
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
        match hazard.next_event(ctx.month, ctx.month + 1, due_timer.min(ctx.months), e) {
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
        self.cols.repatriations[i] = self.cols.repatriations[i].saturating_add(1);
        if rng.random::<f64>() < origin.detention_death[ctx.year] {
            self.set_state(i, LifeState::Repatriated, origin.place, ctx.month);
            self.die(i, ctx.month);
            return;
        }
        self.set_state(i, LifeState::Repatriated, origin.place, ctx.month);
        // Whether they will try again is decided now, with the probability of the year the
        // punishment ends: those who stay need no wake-up at all.
        // (The uniform comes first: when it exceeds every later year's probability, the
        // punishment's length does not matter and is not drawn.)
        let u = rng.random::<f64>();
        if u >= ctx.tables.reattempt_max_from[ctx.year] {
            return;
        }
        let d = origin.punishment.sample(rng);
        let end = ctx.month + d;
        if end < ctx.months && u < origin.reattempt[(end / 12) as usize] {
            self.after(i, ctx, d);
        }
    }

    /// Punishment is over for someone who decided to try again.
    fn punishment_over(&mut self, i: usize, ctx: &MonthCtx<'_>, rng: &mut Rng) {
        let origin = &ctx.model.origin;
        let choices = &ctx.tables.route_choice[usize::from(origin.place)][ctx.year];
        match pick(choices, rng.random()) {
            Some(r) => {
                let sex = self.sex(i);
                self.count_flow(FlowKind::Reattempts, origin.place, sex);
                self.set_out(i, ctx, rng, r);
            }
            // Every crossing is closed: look again in a year.
            None => self.after(i, ctx, 12),
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
                if self.cols.core[i].flags & FLAG_REFERRAL != 0 {
                    self.cols.core[i].flags &= !FLAG_REFERRAL;
                    self.count_flow(FlowKind::ResettlementArrivals, to, sex);
                    self.enter_protected(i, ctx, rng, LifeState::Refugee, to);
                } else {
                    self.claim(i, ctx, rng, to);
                }
            }
            PlaceKind::Origin => {
                self.count_flow(FlowKind::Returns, route.from, sex);
                self.set_state(i, LifeState::Returned, to, ctx.month);
            }
        }
    }

    fn enter_transit(&mut self, i: usize, ctx: &MonthCtx<'_>, rng: &mut Rng, place: u16) {
        self.set_state(i, LifeState::InTransit, place, ctx.month);
        let t = &ctx.tables.transit[usize::from(place)];
        self.hazard_wake(i, ctx, rng, &t.wait);
    }

    fn transit_event(&mut self, i: usize, ctx: &MonthCtx<'_>, rng: &mut Rng) {
        let place = self.cols.core[i].place;
        let p = usize::from(place);
        let t = &ctx.tables.transit[p];
        let y = ctx.year;
        let mut x = rng.random::<f64>() * t.total[y];
        x -= t.arrest[y];
        if x < 0.0 {
            let route = ctx.model.transit[p].as_ref().and_then(|t| t.arrest_route);
            self.arrest(i, ctx, rng, place, route);
            return;
        }
        x -= t.death[y];
        if x < 0.0 {
            self.die(i, ctx.month);
            return;
        }
        x -= t.move_on[y];
        if x < 0.0 {
            self.move_on(i, ctx, rng, place);
            return;
        }
        x -= t.return_home[y];
        if x < 0.0 {
            let sex = self.sex(i);
            self.count_flow(FlowKind::Returns, place, sex);
            self.set_state(i, LifeState::Returned, ctx.model.origin.place, ctx.month);
            return;
        }
        self.claim(i, ctx, rng, place);
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
        let chosen = chosen.or_else(|| pick(&ctx.tables.route_choice[p][ctx.year], rng.random()));
        match chosen {
            Some(r) => {
                let sex = self.sex(i);
                self.count_flow(FlowKind::TransitDepartures, place, sex);
                self.departures[p] += 1;
                self.set_out(i, ctx, rng, r);
            }
            None => {
                // Nowhere open to go: stay, and face the same hazards again.
                let t = &ctx.tables.transit[p];
                self.hazard_wake(i, ctx, rng, &t.wait);
            }
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
        self.resettled_wake(i, ctx, rng);
    }

    fn resettled_wake(&mut self, i: usize, ctx: &MonthCtx<'_>, rng: &mut Rng) {
        let h = &ctx.tables.resettlement[usize::from(self.cols.core[i].place)];
        self.hazard_wake(i, ctx, rng, &h.wait);
    }

    fn resettled_event(&mut self, i: usize, ctx: &MonthCtx<'_>, rng: &mut Rng) {
        let place = self.cols.core[i].place;
        let p = usize::from(place);
        let h = &ctx.tables.resettlement[p];
        let y = ctx.year;
        let onward = h.onward[y]
            * h.onward_f
                .at(ctx.month - u32::from(self.cols.core[i].since));
        let mut x = rng.random::<f64>() * (h.calendar[y] + onward);
        x -= h.death[y];
        if x < 0.0 {
            self.die(i, ctx.month);
            return;
        }
        x -= h.return_home[y];
        if x < 0.0 {
            let sex = self.sex(i);
            self.count_flow(FlowKind::Returns, place, sex);
            self.set_state(i, LifeState::Returned, ctx.model.origin.place, ctx.month);
            return;
        }
        // Considering a move: go with probability W/(1+W) (thinning keeps this exact while W
        // follows last month's stocks), to a host chosen by weight.
        let choice = &ctx.onward[p];
        if rng.random::<f64>() < choice.accept
            && let Some(r) = pick(&choice.cum, rng.random())
        {
            let sex = self.sex(i);
            let to = ctx.model.routes[usize::from(r)].to;
            self.count_flow(FlowKind::OnwardDepartures, to, sex);
            self.set_out(i, ctx, rng, r);
            return;
        }
        self.resettled_wake(i, ctx, rng);
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
        let death = &ctx.tables.host[usize::from(host)].death_wait;
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
                let hz = &ctx.tables.host[usize::from(host)];
                self.hazard_wake(i, ctx, rng, &hz.irregular_wait);
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
        let hz = &ctx.tables.host[usize::from(host)];
        self.hazard_wake(i, ctx, rng, &hz.protected_wait);
    }

    fn protected_event(&mut self, i: usize, ctx: &MonthCtx<'_>, rng: &mut Rng) {
        let host = self.cols.core[i].place;
        let hz = &ctx.tables.host[usize::from(host)];
        let y = ctx.year;
        let since = u32::from(self.cols.core[i].since);
        let naturalisation = hz.naturalisation[y] * hz.naturalisation_f.at(ctx.month - since);
        let mut x = rng.random::<f64>() * (hz.protected[y] + naturalisation);
        x -= hz.death[y];
        if x < 0.0 {
            self.die(i, ctx.month);
            return;
        }
        x -= hz.departure[y];
        if x < 0.0 {
            let h = ctx.model.hosts[usize::from(host)].as_ref().expect("host");
            let r = h.departure_route.expect("departure hazard implies a route");
            self.set_out(i, ctx, rng, r);
            return;
        }
        let sex = self.sex(i);
        self.count_flow(FlowKind::Naturalisations, host, sex);
        self.set_state(i, LifeState::Naturalised, host, ctx.month);
        self.hazard_wake(i, ctx, rng, &hz.death_wait);
    }

    fn irregular_event(&mut self, i: usize, ctx: &MonthCtx<'_>, rng: &mut Rng) {
        let host = self.cols.core[i].place;
        let hz = &ctx.tables.host[usize::from(host)];
        let y = ctx.year;
        if rng.random::<f64>() * hz.irregular[y] < hz.death[y] {
            self.die(i, ctx.month);
            return;
        }
        let h = ctx.model.hosts[usize::from(host)].as_ref().expect("host");
        let r = h.removal_route.expect("removal hazard implies a route");
        self.remove(i, ctx, rng, host, r);
    }

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
            ctx.month as u16,
            born,
        );
        let sex = self.sex(i);
        self.count_flow(FlowKind::ExitAttempts, origin, sex);
        let d = ctx.model.routes[usize::from(r)].duration.sample(rng);
        self.after(i, ctx, d);
    }
}
