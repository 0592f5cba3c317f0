//! A cache hint: fetch an element before it is needed. It never changes a result.

/// Hints the processor to fetch `items[i]` into cache. Never faults and changes no result.
#[inline(always)]
pub(crate) fn prefetch<T>(items: &[T], i: usize) {
    #[cfg(target_arch = "x86_64")]
    if let Some(item) = items.get(i) {
        // SAFETY: `_mm_prefetch` only hints the cache and cannot fault; SSE is part of the
        // x86_64 baseline, so the intrinsic is available on every x86_64 target.
        unsafe {
            std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(
                (item as *const T).cast::<i8>(),
            );
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (items, i);
}
