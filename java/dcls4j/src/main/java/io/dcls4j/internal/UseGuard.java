package io.dcls4j.internal;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * Detects the use of one object (a layer, a convolution plan, an optimizer) by two threads at once,
 * which would corrupt its native scratch memory or its results: an in-use flag, set by a
 * compare-and-set on entry and cleared on exit, no lock. The loser gets an {@link IllegalStateException}
 * naming the object; nothing waits. A nested call from the thread already inside (forward calling
 * buildKernel) passes.
 *
 * <pre>{@code
 * boolean entered = guard.enter(this);
 * try { ... } finally { guard.exit(entered); }
 * }</pre>
 */
public final class UseGuard {
    private static final VarHandle OWNER;

    static {
        try {
            OWNER = MethodHandles.lookup().findVarHandle(UseGuard.class, "owner", Thread.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** The thread inside, or null. */
    @SuppressWarnings("unused") // through OWNER
    private volatile Thread owner;

    /**
     * Marks the object as in use by this thread. Returns false for a nested call by the thread already
     * inside (then {@link #exit} with false leaves the mark); throws if another thread is inside.
     */
    public boolean enter(Object user) {
        Thread me = Thread.currentThread();
        Thread inside = owner;
        if (inside == me) {
            return false;
        }
        if (inside == null && OWNER.compareAndSet(this, (Thread) null, me)) {
            return true;
        }
        throw busy(user, owner);
    }

    /** Clears the mark if {@code entered}. */
    public void exit(boolean entered) {
        if (entered) {
            owner = null;
        }
    }

    /** Whether a thread other than the caller is inside (for tests). */
    public boolean heldByAnotherThread() {
        Thread inside = owner;
        return inside != null && inside != Thread.currentThread();
    }

    private static IllegalStateException busy(Object user, Thread inside) {
        return new IllegalStateException(user + " is in use by another thread" + (inside == null ? ""
                : " (" + inside.getName() + ")") + " and was called from " + Thread.currentThread().getName()
                + ": a layer, a convolution plan or an optimizer may be used by one thread at a time; give each"
                + " thread its own, or make the threads take turns (a lock around the calls)");
    }
}
