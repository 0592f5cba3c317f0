//! A block's event calendar: for each month, the list of agents that wake up in it.
//!
//! Lists are chains of fixed-size chunks drawn from one arena, with emptied chunks reused, so
//! scheduling never reallocates or copies a list and memory stays close to two bytes per
//! scheduled agent. A month's list is read in the order it was written.

/// Agents per chunk (a chunk is 128 bytes: two cache lines).
const CHUNK: usize = 60;
/// No chunk.
const NIL: u32 = u32::MAX;

#[derive(Clone, Copy)]
struct Chunk {
    items: [u16; CHUNK],
    len: u16,
    next: u32,
}

const EMPTY: Chunk = Chunk {
    items: [0; CHUNK],
    len: 0,
    next: NIL,
};

/// Per-month lists of agents (block-local indices).
pub(crate) struct Calendar {
    first: Vec<u32>,
    last: Vec<u32>,
    chunks: Vec<Chunk>,
    free: Vec<u32>,
}

impl Calendar {
    /// An empty calendar of `months` months.
    pub fn new(months: u32) -> Calendar {
        Calendar {
            first: vec![NIL; months as usize],
            last: vec![NIL; months as usize],
            chunks: Vec::new(),
            free: Vec::new(),
        }
    }

    /// Whether nobody wakes up in `month`.
    pub fn is_empty(&self, month: u32) -> bool {
        self.first[month as usize] == NIL
    }

    /// Adds `agent` to `month`'s list; months past the end are ignored.
    #[inline(always)]
    pub fn push(&mut self, month: u32, agent: u16) {
        let m = month as usize;
        if m >= self.first.len() {
            return;
        }
        let last = self.last[m];
        if last != NIL {
            let c = &mut self.chunks[last as usize];
            if usize::from(c.len) < CHUNK {
                c.items[usize::from(c.len)] = agent;
                c.len += 1;
                return;
            }
        }
        let new = match self.free.pop() {
            Some(i) => {
                self.chunks[i as usize] = EMPTY;
                i
            }
            None => {
                self.chunks.push(EMPTY);
                (self.chunks.len() - 1) as u32
            }
        };
        let c = &mut self.chunks[new as usize];
        c.items[0] = agent;
        c.len = 1;
        if last == NIL {
            self.first[m] = new;
        } else {
            self.chunks[last as usize].next = new;
        }
        self.last[m] = new;
    }

    /// Detaches `month`'s first chunk and returns a copy of its agents; `None` when the month's
    /// list is exhausted. The chunk is recycled, so pushes made while its agents are handled
    /// may reuse it.
    #[inline]
    pub fn pop_chunk(&mut self, month: u32) -> Option<([u16; CHUNK], usize)> {
        let m = month as usize;
        let i = self.first[m];
        if i == NIL {
            return None;
        }
        let c = self.chunks[i as usize];
        self.first[m] = c.next;
        if c.next == NIL {
            self.last[m] = NIL;
        }
        self.free.push(i);
        Some((c.items, usize::from(c.len)))
    }

    /// Agents waiting in all months (for checks).
    #[cfg(test)]
    pub fn len(&self) -> usize {
        let mut n = 0;
        for &f in &self.first {
            let mut i = f;
            while i != NIL {
                n += usize::from(self.chunks[i as usize].len);
                i = self.chunks[i as usize].next;
            }
        }
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_keep_order_across_chunks_and_reuse_them() {
        let mut c = Calendar::new(4);
        for a in 0..150u16 {
            c.push(1 + u32::from(a % 2), a);
        }
        c.push(9, 7); // past the end: ignored
        assert_eq!(c.len(), 150);
        assert!(c.is_empty(0) && !c.is_empty(1));
        let mut seen = Vec::new();
        while let Some((items, n)) = c.pop_chunk(1) {
            seen.extend_from_slice(&items[..n]);
            c.push(3, 1000); // pushing while reading reuses freed chunks
        }
        assert_eq!(seen, (0..150).step_by(2).collect::<Vec<u16>>());
        assert!(c.is_empty(1));
        assert_eq!(c.len(), 75 + 2);
        let arena = c.chunks.len();
        while c.pop_chunk(2).is_some() {}
        for a in 0..60 {
            c.push(0, a);
        }
        assert_eq!(c.chunks.len(), arena, "freed chunks are reused");
    }
}
