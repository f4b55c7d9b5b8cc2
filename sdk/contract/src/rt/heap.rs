//! The global allocator of contracts on wasm32: a bump allocator over linear memory.
//!
//! Memory lives for one call frame only (every call gets a fresh instance), so nothing is ever
//! returned to a free list: the heap starts at the linker's `__heap_base` and grows memory with
//! `memory.grow` when needed (each new 64 KiB page costs gas; the runtime refuses growth past
//! `limits::wasm::MAX_MEMORY_PAGES`, and allocation then fails, which panics and reverts). Freeing
//! or resizing the most recent allocation is done in place, which makes growing `Vec`s cheap.
#![allow(unsafe_code)]

use core::alloc::{GlobalAlloc, Layout};
use core::arch::wasm32;
use core::ptr::null_mut;
use core::sync::atomic::{AtomicUsize, Ordering::Relaxed};

const PAGE: usize = 64 * 1024;

unsafe extern "C" {
    /// End of the static data (and of the stack), set by the linker.
    static __heap_base: u8;
}

struct Bump {
    /// First free byte; 0 before the first allocation.
    next: AtomicUsize,
}

#[global_allocator]
static ALLOC: Bump = Bump { next: AtomicUsize::new(0) };

impl Bump {
    fn top(&self) -> usize {
        match self.next.load(Relaxed) {
            0 => &raw const __heap_base as usize,
            n => n,
        }
    }

    /// Makes sure memory reaches `end`, growing it if needed.
    fn reserve(end: usize) -> bool {
        let have = wasm32::memory_size::<0>() * PAGE;
        if end <= have {
            return true;
        }
        let pages = (end - have).div_ceil(PAGE);
        let max = weft_types::limits::wasm::MAX_MEMORY_PAGES as usize;
        wasm32::memory_size::<0>() + pages <= max && wasm32::memory_grow::<0>(pages) != usize::MAX
    }

    fn bump(&self, layout: Layout) -> *mut u8 {
        let align = layout.align() - 1;
        let Some(start) = self.top().checked_add(align).map(|p| p & !align) else { return null_mut() };
        match start.checked_add(layout.size()) {
            Some(end) if Self::reserve(end) => {
                self.next.store(end, Relaxed);
                start as *mut u8
            }
            _ => null_mut(),
        }
    }
}

// SAFETY: wasm32 contracts are single-threaded; every block returned is inside linear memory
// (reserved before it is handed out), aligned as asked, and never handed out twice while live:
// `next` only moves back over the most recent block when that block is freed or resized.
unsafe impl GlobalAlloc for Bump {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        self.bump(layout)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if ptr as usize + layout.size() == self.next.load(Relaxed) {
            self.next.store(ptr as usize, Relaxed);
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let start = ptr as usize;
        if start + layout.size() == self.next.load(Relaxed) {
            return match start.checked_add(new_size) {
                Some(end) if Self::reserve(end) => {
                    self.next.store(end, Relaxed);
                    ptr
                }
                _ => null_mut(),
            };
        }
        // SAFETY: `new_size` with the old alignment is a valid layout (GlobalAlloc's contract).
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        let new = self.bump(new_layout);
        if !new.is_null() {
            // SAFETY: both blocks are live and distinct; the copy stays within both.
            unsafe { core::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size)) };
        }
        new
    }
}
