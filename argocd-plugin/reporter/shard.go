package reporter

// Sharding: N reporter replicas split the applications by a stable hash of "namespace/name", the
// way Argo CD's application controller splits clusters (its legacy distribution), and every shard
// is a Lease of its own. A replica evaluates an application only while it holds the Lease of the
// application's shard and the Lease's last renewal is younger than the renew deadline, so a
// replica that cannot renew stops before anyone else may take the shard; a dead replica's shards
// are taken over by the others once its Leases expire.

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
)

// DefaultShardLeasePrefix names the shards' Leases: <prefix><shard>, shard counted from 0.
const DefaultShardLeasePrefix = "argocd-driftplane-reporter-shard-"

// ShardOf is the shard (0..shards-1) of the application key "namespace/name": Argo CD's legacy
// distribution function (FNV-1a, 32 bits, of the identifier, modulo the number of shards), applied
// to the application instead of its cluster. It depends on nothing but the key and the count, so
// every replica computes the same split without talking to the others.
func ShardOf(key string, shards int) int {
	if shards <= 1 {
		return 0
	}
	h := fnv.New32a()
	_, _ = h.Write([]byte(key))
	return int(h.Sum32() % uint32(shards)) //nolint:gosec // shards is a small positive count
}

// LeaseTiming is client-go leader election's timing, per shard Lease.
type LeaseTiming struct {
	// LeaseDuration is how long others wait after the last renewal before taking a shard (whole
	// seconds: the Lease stores seconds).
	LeaseDuration time.Duration
	// RenewDeadline is how long after its last successful renewal a replica stops evaluating the
	// shard's applications; shorter than LeaseDuration, so it stops before anyone may take over.
	RenewDeadline time.Duration
	// RetryPeriod is how often a Lease is renewed or tried, and how often the shards' Leases are
	// checked for a shard nobody holds.
	RetryPeriod time.Duration
}

// DefaultLeaseTiming is client-go's usual timing, the single-replica Lease's.
var DefaultLeaseTiming = LeaseTiming{LeaseDuration: 15 * time.Second, RenewDeadline: 10 * time.Second, RetryPeriod: 2 * time.Second}

// Validate refuses timing under which a replica could still write after another took its shard.
func (t LeaseTiming) Validate() error {
	switch {
	case t.LeaseDuration < time.Second || t.LeaseDuration%time.Second != 0:
		return fmt.Errorf("lease duration %s: want whole seconds, at least 1s", t.LeaseDuration)
	case t.RenewDeadline <= 0 || t.RenewDeadline >= t.LeaseDuration:
		return fmt.Errorf("renew deadline %s must be positive and shorter than the lease duration %s", t.RenewDeadline, t.LeaseDuration)
	case t.RetryPeriod <= 0 || t.RetryPeriod >= t.RenewDeadline:
		return fmt.Errorf("retry period %s must be positive and shorter than the renew deadline %s", t.RetryPeriod, t.RenewDeadline)
	}
	return nil
}

// errShardLost ends the evaluations of a shard whose Lease this replica no longer holds.
var errShardLost = errors.New("this replica no longer holds the shard's Lease")

// errAtShareCap refuses, for now, a shard beyond this replica's fair share (see Shards.mayAcquire).
var errAtShareCap = errors.New("holding a fair share of the shards already; another replica gets the first chance")

// Shards is the set of shards whose Leases this replica holds, with the time until which each
// holding may be acted on. The Controller asks it before it evaluates an application and before
// it writes a status.
type Shards struct {
	n, share int
	timing   LeaseTiming
	now      func() time.Time

	mu   sync.Mutex
	hold []*shardHold
	// acquiring counts the shards whose acquisition was allowed and is under way: the shards'
	// electors run side by side, and each must see the others' before they land.
	acquiring int
	paused    string // why this replica evaluates nothing (the replicas disagree on the count)
	onAcquire func(shard int)
	metrics   *shardMetrics
}

type shardHold struct {
	held       bool
	validUntil time.Time
	ctx        context.Context
	cancel     context.CancelCauseFunc
	// writes is held (read) by every status write of the shard, and (write) while the Lease is
	// released, so no write of this replica lands after the release.
	writes sync.RWMutex
}

// NewShards is the shard set of one replica among replicas, for shards shards. A replica takes up
// to its fair share (shards/replicas, rounded up) as soon as they are free, and more only once a
// shard's Lease has not changed for a lease period, so replicas started together split the shards
// and a dead replica's share still goes to the others when its Leases expire.
func NewShards(shards, replicas int, timing LeaseTiming, now func() time.Time) *Shards {
	if shards < 1 {
		shards = 1
	}
	if replicas < 1 {
		replicas = shards
	}
	if now == nil {
		now = time.Now
	}
	s := &Shards{n: shards, share: (shards + replicas - 1) / replicas, timing: timing, now: now}
	for i := 0; i < shards; i++ {
		s.hold = append(s.hold, &shardHold{})
	}
	return s
}

// Count is the number of shards.
func (s *Shards) Count() int { return s.n }

// Of is the shard of an application key.
func (s *Shards) Of(key string) int { return ShardOf(key, s.n) }

// claimState is what a replica may do with an application now.
type claimState int

const (
	// claimOwned: the shard's Lease is held and fresh; evaluate.
	claimOwned claimState = iota
	// claimLapsed: the Lease is held but its renewal is late (or the replicas disagree on the
	// count): evaluate nothing now, look again shortly.
	claimLapsed
	// claimNotHeld: another replica's (or nobody's) shard.
	claimNotHeld
)

// claim says whether this replica may evaluate key now and, when it may, returns a context ended
// when the shard's Lease is lost.
func (s *Shards) claim(key string) (context.Context, claimState) {
	i := s.Of(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	h := s.hold[i]
	switch {
	case !h.held:
		return nil, claimNotHeld
	case s.paused != "" || !s.now().Before(h.validUntil):
		return nil, claimLapsed
	}
	return h.ctx, claimOwned
}

// Holds reports whether this replica holds the Lease of key's shard (fresh or not).
func (s *Shards) Holds(key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hold[s.Of(key)].held
}

// Owns reports whether this replica may act on key now.
func (s *Shards) Owns(key string) bool {
	_, st := s.claim(key)
	return st == claimOwned
}

// Held lists the shards whose Leases this replica holds.
func (s *Shards) Held() []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []int
	for i, h := range s.hold {
		if h.held {
			out = append(out, i)
		}
	}
	return out
}

// beginWrite admits one status write of key: ok when the shard is owned now, with the time the
// write must be done by (the holding's validity); done must be called once the write returned.
func (s *Shards) beginWrite(key string) (until time.Time, done func(), ok bool) {
	h := s.hold[s.Of(key)]
	h.writes.RLock()
	s.mu.Lock()
	until, ok = h.validUntil, h.held && s.paused == "" && s.now().Before(h.validUntil)
	s.mu.Unlock()
	if !ok {
		h.writes.RUnlock()
		return time.Time{}, func() {}, false
	}
	return until, h.writes.RUnlock, true
}

// renewed records a successful acquisition or renewal of shard's Lease started at start: the
// holding is good until start + the renew deadline, well before anyone else may take the shard
// (start + the lease duration, on their clock).
func (s *Shards) renewed(shard int, start time.Time) {
	s.mu.Lock()
	h := s.hold[shard]
	acquired := !h.held
	if acquired {
		h.held = true
		h.ctx, h.cancel = context.WithCancelCause(context.Background())
	}
	h.validUntil = start.Add(s.timing.RenewDeadline)
	on := s.onAcquire
	s.mu.Unlock()
	if acquired {
		s.metrics.owned(shard, true)
		if on != nil {
			on(shard)
		}
	}
}

// lost records that shard's Lease is no longer this replica's; its running evaluations end.
func (s *Shards) lost(shard int) {
	s.mu.Lock()
	h := s.hold[shard]
	was := h.held
	h.held, h.validUntil = false, time.Time{}
	if h.cancel != nil {
		h.cancel(errShardLost)
	}
	s.mu.Unlock()
	if was {
		s.metrics.owned(shard, false)
	}
}

// releasing is lost, then waits for the shard's status writes in flight (each bounded by the
// holding's validity), so the Lease is given up only once none can land.
func (s *Shards) releasing(shard int) {
	s.lost(shard)
	h := s.hold[shard]
	h.writes.Lock()
	h.writes.Unlock() //nolint:staticcheck // a barrier: waits for the writes admitted before
}

// mayAcquire says whether this replica should take a free shard whose Lease last changed (was
// renewed, released or first seen missing) at changed: yes within its fair share; beyond it only
// once the Lease has not changed for a lease period. A dead replica's Lease has not changed for
// that long by the time it expires, so its shards are taken over at once; a released or new
// Lease goes first to a replica holding less than its share.
// An allowed acquisition counts against the share until acquired reports its outcome.
func (s *Shards) mayAcquire(changed time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	held := s.acquiring
	for _, h := range s.hold {
		if h.held {
			held++
		}
	}
	if held < s.share || s.now().Sub(changed) >= s.timing.LeaseDuration {
		s.acquiring++
		return true
	}
	return false
}

// acquired ends an acquisition mayAcquire allowed (renewed has already run when it worked).
func (s *Shards) acquired() {
	s.mu.Lock()
	s.acquiring--
	s.mu.Unlock()
}

// pause stops (why != "") or resumes (why == "") every evaluation of this replica.
func (s *Shards) pause(why string) (changed bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	changed = s.paused != why
	s.paused = why
	return changed
}

// shardLock is a Lease lock that tells Shards about every renewal and release, and declines to
// take a shard beyond this replica's share until it has been free for a while.
type shardLock struct {
	resourcelock.Interface
	shards *Shards
	shard  int
	// mine: the last record this replica saw or wrote names it (renewal, not acquisition). Only
	// the elector's goroutine uses the lock.
	mine bool
	// lastRaw is the record last seen ("" while missing), changed when it was first seen so.
	lastRaw string
	changed time.Time
}

func (l *shardLock) Get(ctx context.Context) (*resourcelock.LeaderElectionRecord, []byte, error) {
	rec, raw, err := l.Interface.Get(ctx)
	switch {
	case err == nil:
		l.mine = rec.HolderIdentity == l.Identity()
		l.observe(string(raw))
	case apierrors.IsNotFound(err):
		l.mine = false
		l.observe("")
	}
	return rec, raw, err
}

func (l *shardLock) observe(raw string) {
	if l.changed.IsZero() || raw != l.lastRaw {
		l.lastRaw, l.changed = raw, l.shards.now()
	}
}

func (l *shardLock) Create(ctx context.Context, rec resourcelock.LeaderElectionRecord) error {
	return l.write(ctx, rec, l.Interface.Create)
}

func (l *shardLock) Update(ctx context.Context, rec resourcelock.LeaderElectionRecord) error {
	return l.write(ctx, rec, l.Interface.Update)
}

func (l *shardLock) write(ctx context.Context, rec resourcelock.LeaderElectionRecord, do func(context.Context, resourcelock.LeaderElectionRecord) error) error {
	if rec.HolderIdentity == "" { // the elector releases the Lease
		l.shards.releasing(l.shard)
		l.mine = false
		return do(ctx, rec)
	}
	if !l.mine {
		if !l.shards.mayAcquire(l.changed) {
			return errAtShareCap
		}
		defer l.shards.acquired()
	}
	start := l.shards.now()
	if err := do(ctx, rec); err != nil {
		return err
	}
	l.mine = true
	l.shards.renewed(l.shard, start)
	return nil
}

// ShardOptions configure RunSharded.
type ShardOptions struct {
	// Namespace holds the shards' Leases.
	Namespace string
	// LeasePrefix names them (DefaultShardLeasePrefix when empty).
	LeasePrefix string
	// Identity is this replica's, unique among replicas.
	Identity string
	Timing   LeaseTiming
	Log      *slog.Logger
	// Registerer receives the sharding metrics (none when nil).
	Registerer prometheus.Registerer
}

// identity is the holder identity written into the shards' Leases: the replica's, and the number
// of shards it splits by, so a replica run with another count is seen.
func (o ShardOptions) identity(shards int) string {
	return o.Identity + ";shards=" + strconv.Itoa(shards)
}

// shardsOfIdentity is the number of shards a holder identity declares (0 when it declares none).
func shardsOfIdentity(id string) int {
	i := strings.LastIndex(id, ";shards=")
	if i < 0 {
		return 0
	}
	n, _ := strconv.Atoi(id[i+len(";shards="):])
	return n
}

// RunSharded runs the controller (built with Config.Shards) and contends for every shard's Lease
// until ctx ends; then it releases the Leases it holds and returns once the workers are done.
// Every RetryPeriod it reads all the shards' Leases: a shard nobody holds is logged and exported
// (driftplane_reporter_shard_unheld), and a Lease held by a replica splitting by another count
// pauses this replica's evaluations (driftplane_reporter_shard_count_mismatch), since the two
// would otherwise split the applications differently.
func RunSharded(ctx context.Context, c *Controller, kc kubernetes.Interface, opts ShardOptions, workers int) error {
	s := c.cfg.Shards
	if s == nil {
		return errors.New("RunSharded needs a controller built with Config.Shards")
	}
	if err := s.timing.Validate(); err != nil {
		return err
	}
	if opts.LeasePrefix == "" {
		opts.LeasePrefix = DefaultShardLeasePrefix
	}
	if opts.Log == nil {
		opts.Log = c.cfg.Log
	}
	s.metrics = newShardMetrics(opts.Registerer, s.n)
	s.mu.Lock()
	s.onAcquire = func(shard int) {
		opts.Log.Info("shard lease acquired", "shard", shard, "lease", opts.LeasePrefix+strconv.Itoa(shard))
		c.enqueueShard(shard)
	}
	s.mu.Unlock()

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	var runErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		runErr = c.Run(ctx, workers)
		cancel() // the controller failed to start: give up the Leases too
	}()
	id := opts.identity(s.n)
	for i := 0; i < s.n; i++ {
		lock := &shardLock{shards: s, shard: i, Interface: &resourcelock.LeaseLock{
			LeaseMeta:  metav1.ObjectMeta{Name: opts.LeasePrefix + strconv.Itoa(i), Namespace: opts.Namespace},
			Client:     kc.CoordinationV1(),
			LockConfig: resourcelock.ResourceLockConfig{Identity: id},
		}}
		wg.Add(1)
		go func(shard int) {
			defer wg.Done()
			for ctx.Err() == nil {
				le, err := leaderelection.NewLeaderElector(leaderelection.LeaderElectionConfig{
					Lock: lock, Name: lock.Describe(), ReleaseOnCancel: true,
					LeaseDuration: s.timing.LeaseDuration, RenewDeadline: s.timing.RenewDeadline, RetryPeriod: s.timing.RetryPeriod,
					Callbacks: leaderelection.LeaderCallbacks{
						OnStartedLeading: func(context.Context) {},
						OnStoppedLeading: func() {
							s.lost(shard)
							if ctx.Err() == nil {
								opts.Log.Warn("shard lease lost; its applications are left to the replica that takes it", "shard", shard)
							}
						},
					},
				})
				if err != nil {
					opts.Log.Error("shard lease", "shard", shard, "err", err)
					return
				}
				le.Run(ctx)
			}
		}(i)
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		watchShards(ctx, kc, s, opts)
	}()
	wg.Wait()
	return runErr
}

// watchShards reads every shard's Lease each RetryPeriod, exports which ones nobody holds and
// pauses the replica while a holder splits by another count.
func watchShards(ctx context.Context, kc kubernetes.Interface, s *Shards, opts ShardOptions) {
	unheld := make([]bool, s.n+1)
	t := time.NewTicker(s.timing.RetryPeriod)
	defer t.Stop()
	// A fresh replica's first look would call every shard unheld while the replicas start.
	startedAt := s.now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		var mismatch []string
		// One past the last shard too: a replica splitting by more holds it.
		for i := 0; i <= s.n; i++ {
			name := opts.LeasePrefix + strconv.Itoa(i)
			lease, err := kc.CoordinationV1().Leases(opts.Namespace).Get(ctx, name, metav1.GetOptions{})
			if err != nil && !apierrors.IsNotFound(err) {
				if ctx.Err() == nil {
					opts.Log.Warn("reading shard lease", "lease", name, "err", err)
				}
				continue
			}
			holder, live := "", false
			if err == nil && lease.Spec.HolderIdentity != nil && *lease.Spec.HolderIdentity != "" && lease.Spec.RenewTime != nil && lease.Spec.LeaseDurationSeconds != nil {
				holder = *lease.Spec.HolderIdentity
				expires := lease.Spec.RenewTime.Add(time.Duration(*lease.Spec.LeaseDurationSeconds)*time.Second + s.timing.RetryPeriod)
				live = s.now().Before(expires)
			}
			if live {
				if n := shardsOfIdentity(holder); n != 0 && n != s.n {
					mismatch = append(mismatch, fmt.Sprintf("%s is held by a replica splitting by %d shards", name, n))
				}
			}
			if i == s.n {
				if live && shardsOfIdentity(holder) == 0 {
					mismatch = append(mismatch, fmt.Sprintf("%s is held by a replica of unknown shard count", name))
				}
				continue
			}
			now := !live && s.now().Sub(startedAt) >= s.timing.LeaseDuration
			s.metrics.unheld(i, now)
			if now && !unheld[i] {
				opts.Log.Warn("shard lease held by no replica: its applications are not evaluated until one takes it", "shard", i, "lease", name)
			} else if !now && unheld[i] {
				opts.Log.Info("shard lease held again", "shard", i, "lease", name)
			}
			unheld[i] = now
		}
		why := strings.Join(mismatch, "; ")
		if s.pause(why) {
			if why != "" {
				opts.Log.Error("replicas disagree on the number of shards: evaluating nothing until they agree (set the same --shards on every replica)", "shards", s.n, "seen", why)
			} else {
				opts.Log.Info("replicas agree on the number of shards again", "shards", s.n)
			}
		}
		s.metrics.mismatch(why != "")
	}
}

// shardMetrics are the sharding series. A nil *shardMetrics records nothing.
type shardMetrics struct {
	ownedG, unheldG *prometheus.GaugeVec
	mismatchG       prometheus.Gauge
}

func newShardMetrics(reg prometheus.Registerer, shards int) *shardMetrics {
	if reg == nil {
		return nil
	}
	m := &shardMetrics{
		ownedG: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "driftplane_reporter_shard_owned",
			Help: "1 while this replica holds the shard's Lease and evaluates its applications."}, []string{"shard"}),
		unheldG: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "driftplane_reporter_shard_unheld",
			Help: "1 while no replica holds the shard's Lease (its applications are not evaluated), as this replica reads the Lease."}, []string{"shard"}),
		mismatchG: prometheus.NewGauge(prometheus.GaugeOpts{Name: "driftplane_reporter_shard_count_mismatch",
			Help: "1 while a shard Lease is held by a replica splitting by another number of shards; this replica evaluates nothing meanwhile."}),
	}
	total := prometheus.NewGauge(prometheus.GaugeOpts{Name: "driftplane_reporter_shards", Help: "Number of shards the applications are split into."})
	total.Set(float64(shards))
	reg.MustRegister(m.ownedG, m.unheldG, m.mismatchG, total)
	for i := 0; i < shards; i++ {
		m.ownedG.WithLabelValues(strconv.Itoa(i)).Set(0)
		m.unheldG.WithLabelValues(strconv.Itoa(i)).Set(0)
	}
	return m
}

func (m *shardMetrics) owned(shard int, v bool) {
	if m != nil {
		m.ownedG.WithLabelValues(strconv.Itoa(shard)).Set(b2f(v))
	}
}

func (m *shardMetrics) unheld(shard int, v bool) {
	if m != nil {
		m.unheldG.WithLabelValues(strconv.Itoa(shard)).Set(b2f(v))
	}
}

func (m *shardMetrics) mismatch(v bool) {
	if m != nil {
		m.mismatchG.Set(b2f(v))
	}
}

func b2f(v bool) float64 {
	if v {
		return 1
	}
	return 0
}
