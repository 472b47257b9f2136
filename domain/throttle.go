package domain

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"
)

// Throttle counts failures per key in a sliding window and refuses a key
// once it reaches the limit, until its oldest counted failure ages out.
//
// It holds at most MaxThrottleKeys keys and, per key, the newest limit
// failures (all that Wait looks at). A key is forgotten a window after its
// last failure; when more keys than that failed within a window, the one
// that failed longest ago is forgotten first.
type Throttle struct {
	limit  int
	window time.Duration

	mu       sync.Mutex
	failures *recentKeys[[]time.Time]
}

// MaxThrottleKeys bounds the keys of one Throttle (about 4 MB with one
// failure each, 30 MB with 60).
const MaxThrottleKeys = 20_000

// NewThrottle allows limit failures per key within window.
func NewThrottle(limit int, window time.Duration) *Throttle {
	return &Throttle{limit: limit, window: window, failures: newRecentKeys[[]time.Time](MaxThrottleKeys, window)}
}

// Wait returns how long the key must wait before it may try again (0: now).
func (t *Throttle) Wait(key string, now time.Time) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	p := t.failures.peek(key, now)
	if p == nil {
		return 0
	}
	times := t.prune(p, now)
	if len(times) == 0 {
		t.failures.forget(key)
		return 0
	}
	// A key that keeps trying is the last to be forgotten in a flood of
	// others; its failures still age out by their own times.
	t.failures.touch(key, now)
	if len(times) < t.limit {
		return 0
	}
	// The key may try again once enough failures have aged out to leave
	// fewer than limit in the window.
	return times[len(times)-t.limit].Add(t.window).Sub(now)
}

// Fail records one failure of key.
func (t *Throttle) Fail(key string, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	p := t.failures.touch(key, now)
	times := append(t.prune(p, now), now)
	if len(times) > t.limit {
		times = times[len(times)-t.limit:]
	}
	*p = times
}

// Reset forgets the failures of key, after a success.
func (t *Throttle) Reset(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.failures.forget(key)
}

// prune drops the failures that left the window from *p and returns the rest.
func (t *Throttle) prune(p *[]time.Time, now time.Time) []time.Time {
	times := *p
	i := 0
	for i < len(times) && now.Sub(times[i]) >= t.window {
		i++
	}
	*p = times[i:]
	return *p
}

// The password throttle (issue 11, item 2). Every place that checks a
// person's password goes through PasswordThrottle.Check: sign-in, changing
// the password, confirming it before a sensitive action, and accepting an
// invitation by signing in. It slows guessing down without letting a guesser
// lock the owner out:
//
//   - A client, meaning an address or a browser the account signed in with
//     before, may get one account's password wrong PasswordFreeFailures times
//     within PasswordFailureMemory. After that it waits before each further
//     try, twice as long each time, from PasswordFirstDelay up to
//     PasswordMaxDelay. Only that client waits; the owner elsewhere does not.
//   - Clients the account does not know may together get its password wrong
//     AccountUnknownLimit times within PasswordFailureMemory. After that each
//     of them waits AccountUnknownDelay after the last such failure: a guesser
//     with many addresses gets about one try a minute, and the owner from a
//     new address waits at most that long (from a known browser, not at all).
//   - One address may get passwords wrong on any accounts SignInAddressLimit
//     times within SignInWindow (password spraying). After that, attempts from
//     it are refused until the oldest of those failures is SignInWindow old;
//     a browser the tried account knows still gets through.
//   - Only wrong passwords count, once they are known to be wrong: a right
//     password is never a failure, however many run at once, and it clears
//     the earlier failures of the client that typed it.
//
// Failures live in the database (PasswordFailureTimes, AddPasswordFailure),
// so they survive a restart and every node sees them. The owner is told at
// the next sign-in how many wrong passwords were tried since the last one.
const (
	PasswordFreeFailures  = 5
	PasswordFirstDelay    = 30 * time.Second
	PasswordMaxDelay      = 15 * time.Minute
	PasswordFailureMemory = time.Hour

	AccountUnknownLimit = 10
	AccountUnknownDelay = time.Minute

	SignInAddressLimit = 20
	SignInWindow       = 15 * time.Minute
)

// Client is who tries a password: the address the request comes from and,
// when it carries a valid known-browser cookie, that browser's id and the
// users who signed in with it (the cookie is signed, so a client cannot
// claim a browser it does not hold).
type Client struct {
	Address    string
	Browser    string
	KnownUsers []int64
}

// knows reports whether the user signed in with this browser before.
func (c Client) knows(userID int64) bool {
	return userID != 0 && c.Browser != "" && slices.Contains(c.KnownUsers, userID)
}

// key names the client as seen by one account: its browser when the account
// knows it, else its address.
func (c Client) key(userID int64) string {
	if c.knows(userID) {
		return "browser:" + c.Browser
	}
	return "address:" + c.Address
}

// PasswordFailure is one wrong password, kept while it counts.
type PasswordFailure struct {
	// Account is the email tried, normalized, whether or not a user has it.
	Account string
	// UserID is the user with that email (0: none); its tally of failed
	// attempts since the last sign-in grows by one.
	UserID  int64
	Client  string // Client.key: "address:..." or "browser:..."
	Address string
	// Known is set when the failure came from a browser the account knows.
	Known bool
	Time  time.Time
}

// PasswordFailureFilter selects recent failures: of one client on one
// account (Account and Client), of every client on one account (Account),
// or from one address on any account (Address). UnknownOnly leaves out
// failures from browsers the tried account knows.
type PasswordFailureFilter struct {
	Account     string
	Client      string
	Address     string
	UnknownOnly bool
}

// FailedAttempts are the wrong passwords tried on a user's account since
// the user last signed in.
type FailedAttempts struct {
	Count       int
	Last        time.Time
	LastAddress string
}

// FailureHistory is what the throttle knows before an attempt: the times of
// the recent failures that bear on it, newest first.
type FailureHistory struct {
	// Pair: this client's failures on this account, in PasswordFailureMemory.
	Pair []time.Time
	// Account: failures of clients the account does not know, in PasswordFailureMemory.
	Account []time.Time
	// Address: failures from this address on any account, by clients the
	// tried account did not know, in SignInWindow.
	Address []time.Time
	// Known is set when the client is a browser this account knows: it is
	// then held only to its own failures.
	Known bool
}

// ThrottleReason says which limit makes an attempt wait.
type ThrottleReason int

const (
	NotThrottled ThrottleReason = iota
	// ThrottledPair: this client's own failures on this account.
	ThrottledPair
	// ThrottledAccount: failures on this account by clients it does not know.
	ThrottledAccount
	// ThrottledAddress: failures from this address on any account.
	ThrottledAddress
)

// PasswordWait decides how long a client must wait before it may try a
// password, from the failures before it (0: it may try now), and why.
func PasswordWait(h FailureHistory, now time.Time) (time.Duration, ThrottleReason) {
	wait, why := time.Duration(0), NotThrottled
	consider := func(w time.Duration, reason ThrottleReason) {
		if w > wait {
			wait, why = w, reason
		}
	}
	if n := len(h.Pair); n >= PasswordFreeFailures {
		delay := PasswordFirstDelay
		for i := PasswordFreeFailures; i < n && delay < PasswordMaxDelay; i++ {
			delay *= 2
		}
		consider(h.Pair[0].Add(min(delay, PasswordMaxDelay)).Sub(now), ThrottledPair)
	}
	if !h.Known {
		if len(h.Account) >= AccountUnknownLimit {
			consider(h.Account[0].Add(AccountUnknownDelay).Sub(now), ThrottledAccount)
		}
		// Once the limit-th newest failure leaves the window, fewer than
		// the limit remain in it.
		if len(h.Address) >= SignInAddressLimit {
			consider(h.Address[SignInAddressLimit-1].Add(SignInWindow).Sub(now), ThrottledAddress)
		}
	}
	return wait, why
}

// pairHistoryLimit is how many of a pair's failures PasswordWait needs to
// see: beyond it the delay is at its maximum.
const pairHistoryLimit = PasswordFreeFailures + 8

// PasswordThrottle holds password checks to the policy above.
type PasswordThrottle struct {
	store Store
	now   func() time.Time
	locks *keyedLocks
}

// NewPasswordThrottle returns the throttle, keeping failures in store.
func NewPasswordThrottle(store Store, now func() time.Time) *PasswordThrottle {
	return &PasswordThrottle{store: store, now: now, locks: newKeyedLocks()}
}

// Check runs verify (the comparison of a password for account, the
// normalized email; userID 0 when no user has it) unless the throttle
// refuses the client first, with an ERATELIMITED error carrying RetryAfter.
// A wrong password (verify false) is recorded; a right one is never
// counted, and clears the client's own earlier failures on the account.
//
// Attempts of clients the account does not know run one at a time per
// account and per address, and those of a known browser one at a time per
// browser and account: each sees the failures of the one before, so
// parallel guesses cannot slip under a limit, and parallel right passwords
// never stand in each other's way. A known browser never queues behind
// strangers. The turns are kept per process: with several nodes, parallel
// guesses may pass a limit by one per node.
func (t *PasswordThrottle) Check(ctx context.Context, account string, userID int64, client Client, verify func() (bool, error)) (bool, error) {
	if client.Address == "" {
		client.Address = "unknown"
	}
	known := client.knows(userID)
	keys := []string{"address:" + client.Address, "account:" + account}
	if known {
		keys = []string{"browser:" + client.Browser + "|" + account}
	}
	for _, key := range keys {
		unlock, err := t.locks.lock(ctx, key)
		if err != nil {
			return false, err
		}
		defer unlock()
	}
	now := t.now()
	h, err := t.history(ctx, account, userID, client, known, now)
	if err != nil {
		return false, err
	}
	if wait, why := PasswordWait(h, now); wait > 0 {
		return false, throttled(wait, why)
	}
	ok, err := verify()
	switch {
	case err != nil:
		return false, err
	case ok && len(h.Pair) > 0:
		// The client proved it knows the password: its own slips before
		// are forgiven (those of others, and the owner's tally, stay).
		return true, t.store.Update(ctx, func(tx Tx) error {
			return tx.ForgetPasswordFailures(ctx, account, client.key(userID))
		})
	case ok:
		return true, nil
	}
	f := PasswordFailure{Account: account, UserID: userID, Client: client.key(userID), Address: client.Address, Known: known, Time: now}
	err = t.store.Update(ctx, func(tx Tx) error {
		return tx.AddPasswordFailure(ctx, f, now.Add(-PasswordFailureMemory))
	})
	return false, err
}

func (t *PasswordThrottle) history(ctx context.Context, account string, userID int64, client Client, known bool, now time.Time) (FailureHistory, error) {
	h := FailureHistory{Known: known}
	var err error
	since := now.Add(-PasswordFailureMemory)
	if h.Pair, err = t.store.PasswordFailureTimes(ctx, PasswordFailureFilter{Account: account, Client: client.key(userID)}, since, pairHistoryLimit); err != nil || known {
		return h, err
	}
	if h.Account, err = t.store.PasswordFailureTimes(ctx, PasswordFailureFilter{Account: account, UnknownOnly: true}, since, AccountUnknownLimit); err != nil {
		return h, err
	}
	h.Address, err = t.store.PasswordFailureTimes(ctx, PasswordFailureFilter{Address: client.Address, UnknownOnly: true}, now.Add(-SignInWindow), SignInAddressLimit)
	return h, err
}

// throttled is the refusal: it says how long to wait and, when that helps
// the owner, where a try would go through sooner.
func throttled(wait time.Duration, why ThrottleReason) error {
	when := inAbout(wait)
	var msg string
	switch why {
	case ThrottledAccount:
		msg = "Too many wrong passwords for this account from elsewhere. Try again " + when + ", or from a browser you signed in with before."
	case ThrottledAddress:
		msg = "Too many wrong passwords from your network. Try again " + when + ", or from a browser you signed in with before."
	default:
		msg = "Too many wrong passwords. Try again " + when + "."
	}
	return &Error{Code: ERATELIMITED, Message: msg, RetryAfter: int((wait + time.Second - 1) / time.Second)}
}

// inAbout says a wait in words, rounded up: "in 45 seconds", "in 2 minutes".
func inAbout(d time.Duration) string {
	if d <= time.Minute {
		s := int((d + time.Second - 1) / time.Second)
		return fmt.Sprintf("in %d second%s", s, plural(s))
	}
	m := int((d + time.Minute - 1) / time.Minute)
	return fmt.Sprintf("in %d minute%s", m, plural(m))
}

// keyedLocks lets one caller at a time hold a key, the others wait their
// turn (or give up with their context). An entry lives only while its key
// is held or awaited, so the map is as small as the attempts in flight, and
// both the keys and the waiters per key are capped.
type keyedLocks struct {
	mu sync.Mutex
	m  map[string]*keyLock
}

type keyLock struct {
	held chan struct{} // holds a value while the key is held
	refs int           // holder and waiters
}

// Caps on the attempts in flight; beyond them an attempt is refused at once.
const (
	maxLockedKeys     = 10_000
	maxWaitersPerLock = 256
)

func newKeyedLocks() *keyedLocks { return &keyedLocks{m: map[string]*keyLock{}} }

var errTooManyAtOnce = &Error{Code: ERATELIMITED, RetryAfter: 1, Message: "Too many sign-ins at once. Try again in a second."}

// lock waits for key and returns the function that releases it.
func (k *keyedLocks) lock(ctx context.Context, key string) (func(), error) {
	k.mu.Lock()
	l := k.m[key]
	if l == nil {
		if len(k.m) >= maxLockedKeys {
			k.mu.Unlock()
			return nil, errTooManyAtOnce
		}
		l = &keyLock{held: make(chan struct{}, 1)}
		k.m[key] = l
	}
	if l.refs >= maxWaitersPerLock {
		k.mu.Unlock()
		return nil, errTooManyAtOnce
	}
	l.refs++
	k.mu.Unlock()
	select {
	case l.held <- struct{}{}:
		return func() { <-l.held; k.leave(key, l) }, nil
	case <-ctx.Done():
		k.leave(key, l)
		return nil, ctx.Err()
	}
}

func (k *keyedLocks) leave(key string, l *keyLock) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if l.refs--; l.refs == 0 {
		delete(k.m, key)
	}
}
