package sqlite_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"studio/db/sqlite"
	"studio/domain"
)

// devEnv is a database with the devices service over it.
type devEnv struct {
	*env
	b       bootstrapped
	hub     *domain.LocalHub
	log     *domain.EventLog
	devices *domain.Devices
	counter *sqlite.StatementCounter
}

func newDevEnv(t *testing.T) *devEnv {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "studio.db")
	counter := &sqlite.StatementCounter{}
	store, err := sqlite.OpenWith(ctx, path, sqlite.Options{Count: counter})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	c := newClock()
	e := &env{t: t, ctx: ctx, path: path, store: store, raw: openRaw(t, path), clock: c,
		accounts: domain.NewAccounts(store, domain.NewHasher(2), c.Now), projects: domain.NewProjects(store, c.Now), audit: domain.NewAuditLog(store)}
	d := &devEnv{env: e, b: e.bootstrap(), hub: domain.NewLocalHub(), counter: counter}
	d.log = domain.NewEventLog(store, d.hub)
	d.devices = domain.NewDevices(store, d.log, c.Now)
	return d
}

// emulated makes an emulated device as the admin.
func (d *devEnv) emulated(p domain.Project, t domain.DeviceType, labels map[string]string) domain.Device {
	d.t.Helper()
	dev, err := d.devices.CreateEmulated(d.ctx, d.b.principal, p.ID, domain.EmulatedInput{Type: t, Labels: labels})
	if err != nil {
		d.t.Fatal(err)
	}
	return dev
}

func (d *devEnv) publish(dev domain.Device, body string) error {
	_, err := d.devices.PublishEmulated(d.ctx, d.b.principal, dev.ProjectID, dev.ID, json.RawMessage(body))
	return err
}

// sqliteLess is SQLite's order of values: NULL, then numbers, then text (bytewise).
func sqliteLess(a, b any) int {
	rank := func(v any) int {
		switch v.(type) {
		case nil:
			return 0
		case float64:
			return 1
		}
		return 2
	}
	if ra, rb := rank(a), rank(b); ra != rb {
		return ra - rb
	}
	switch x := a.(type) {
	case float64:
		y := b.(float64)
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return 0
	case string:
		return strings.Compare(x, b.(string))
	}
	return 0
}

// TestDeviceListOrdersAndPages: every order pages through the same
// devices as one sorted list (by SortValue, SQLite's order of types, ties
// by id), and the store's order agrees with the domain's SortValue.
func TestDeviceListOrdersAndPages(t *testing.T) {
	d := newDevEnv(t)
	rng := rand.New(rand.NewPCG(1, 2))
	var all []domain.Device
	for i := 0; i < 60; i++ {
		labels := map[string]string{}
		if i%3 != 0 {
			labels["name"] = []string{"alpha", "Beta", "gamma", "Delta", "ålesund"}[rng.IntN(5)]
		}
		if i%4 != 0 {
			labels[`odd "key".x`] = fmt.Sprint(rng.IntN(5))
		}
		typ := []domain.DeviceType{domain.DeviceTemperature, domain.DeviceTouch, domain.DeviceContact}[i%3]
		dev := d.emulated(d.b.inventory, typ, labels)
		if typ == domain.DeviceTemperature && i%2 == 0 {
			if err := d.publish(dev, fmt.Sprintf(`{"temperature":{"value":%d}}`, rng.IntN(7)-3)); err != nil {
				t.Fatal(err)
			}
		}
		all = append(all, dev)
	}
	// Reread them (reported filled in).
	fresh, err := d.store.ListDevices(d.ctx, domain.DeviceFilter{ProjectID: d.b.inventory.ID}, domain.Cursor{}, 1000)
	if err != nil || len(fresh) != len(all) {
		t.Fatalf("%d devices, %v", len(fresh), err)
	}
	for _, orderBy := range []string{"", "-name", "type", "-type", "labels.name", "-labels.name", `labels.odd "key".x`, `-labels.odd "key".x`,
		"reported.temperature.value", "-reported.temperature.value", "reported.temperature.isBackfilled"} {
		o, err := domain.ParseOrderBy(orderBy)
		if err != nil {
			t.Fatal(err)
		}
		want := append([]domain.Device(nil), fresh...)
		sort.SliceStable(want, func(i, j int) bool {
			c := sqliteLess(o.SortValue(want[i]), o.SortValue(want[j]))
			if c == 0 {
				c = strings.Compare(want[i].ID, want[j].ID)
			}
			if o.Desc {
				return c > 0
			}
			return c < 0
		})
		var got []domain.Device
		token := ""
		for pages := 0; ; pages++ {
			page, err := d.devices.List(d.ctx, d.b.principal, d.b.inventory.ID, domain.DeviceQuery{OrderBy: orderBy}, domain.PageRequest{Size: 7, Token: token})
			if err != nil {
				t.Fatalf("%s: %v", orderBy, err)
			}
			got = append(got, page.Items...)
			if token = page.NextPageToken; token == "" || pages > 20 {
				break
			}
		}
		if len(got) != len(want) {
			t.Fatalf("order %q: %d devices paging, want %d", orderBy, len(got), len(want))
		}
		for i := range got {
			if got[i].ID != want[i].ID {
				t.Fatalf("order %q: position %d is %s (%v), want %s (%v)", orderBy, i, got[i].ID, o.SortValue(got[i]), want[i].ID, o.SortValue(want[i]))
			}
		}
	}
	// The console's order: by name, any case, unnamed first.
	page, err := d.devices.List(d.ctx, d.b.principal, d.b.inventory.ID, domain.DeviceQuery{ByDisplayName: true}, domain.PageRequest{Size: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i < len(page.Items); i++ {
		a, b := strings.ToLower(page.Items[i-1].Labels["name"]), strings.ToLower(page.Items[i].Labels["name"])
		if a > b || (a == b && page.Items[i-1].ID > page.Items[i].ID) {
			t.Fatalf("by name: %q (%s) before %q (%s)", a, page.Items[i-1].ID, b, page.Items[i].ID)
		}
	}
}

// TestDeviceCountsFollowChanges: the project's counts move with every
// create, move and delete, in the same transaction.
func TestDeviceCountsFollowChanges(t *testing.T) {
	d := newDevEnv(t)
	other, err := d.projects.CreateProject(d.ctx, d.b.principal, d.b.org.ID, domain.ProjectInput{DisplayName: strPtr("Other")})
	if err != nil {
		t.Fatal(err)
	}
	counts := func(p domain.Project) string {
		got, err := d.store.ProjectByID(d.ctx, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprintf("%d/%d", got.SensorCount, got.CloudConnectorCount)
	}
	a := d.emulated(d.b.inventory, domain.DeviceTemperature, nil)
	c := d.emulated(d.b.inventory, domain.DeviceCloudConnector, nil)
	d.emulated(d.b.inventory, domain.DeviceTouch, nil)
	if got := counts(d.b.inventory); got != "2/1" {
		t.Fatalf("after 2 sensors and a ccon: %s", got)
	}
	res, err := d.devices.Transfer(d.ctx, d.b.principal, other.ID, []domain.DeviceRef{{ProjectID: a.ProjectID, DeviceID: a.ID}, {ProjectID: c.ProjectID, DeviceID: c.ID}})
	if err != nil || len(res.Moved) != 2 || len(res.Errors) != 0 {
		t.Fatalf("transfer: %+v %v", res, err)
	}
	if got, gotOther := counts(d.b.inventory), counts(other); got != "1/0" || gotOther != "1/1" {
		t.Fatalf("after the move: %s and %s", got, gotOther)
	}
	if err := d.devices.DeleteEmulated(d.ctx, d.b.principal, other.ID, c.ID); err != nil {
		t.Fatal(err)
	}
	if got := counts(other); got != "1/0" {
		t.Fatalf("after deleting the ccon: %s", got)
	}
	// The project cannot be deleted while it holds a device.
	if err := d.projects.DeleteProject(d.ctx, d.b.principal, other.ID); domain.ErrorCode(err) != domain.EINVALID {
		t.Fatalf("deleting a project with a device: %v", err)
	}
	if n := d.count("SELECT count(*) FROM projects WHERE id = ?", other.ID); n != 1 {
		t.Fatal("the refused delete removed the project")
	}
	// Offline and low battery counts.
	b := d.emulated(other, domain.DeviceTouch, nil)
	if err := d.publish(b, `{"batteryStatus":{"percentage":12}}`); err != nil {
		t.Fatal(err)
	}
	got, err := d.devices.Counts(d.ctx, d.b.principal, other.ID)
	if err != nil || got.Total != 2 || got.ByType[domain.DeviceTouch] != 1 || got.ByType[domain.DeviceTemperature] != 1 || got.Offline != 1 || got.LowBattery != 1 {
		t.Fatalf("counts %+v %v: want 2 devices, a (never seen) offline, b low", got, err)
	}
	d.clock.Advance(2 * time.Hour)
	if got, _ = d.devices.Counts(d.ctx, d.b.principal, other.ID); got.Offline != 2 {
		t.Fatalf("two hours later %d offline, want 2", got.Offline)
	}
}

func strPtr(s string) *string { return &s }

// TestEventLogGroupCommit: concurrent publishes share transactions, each
// returns only once its event is stored, and each device's reported ends
// with its newest body.
func TestEventLogGroupCommit(t *testing.T) {
	d := newDevEnv(t)
	var devs []domain.Device
	for i := 0; i < 10; i++ {
		devs = append(devs, d.emulated(d.b.inventory, domain.DeviceTemperature, nil))
	}
	sub := d.hub.Subscribe(domain.StreamFilter{ProjectID: d.b.inventory.ID}, 1000)
	defer sub.Close()
	before := d.counter.Transactions()
	const workers, each = 32, 10
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				dev := devs[(w+i)%len(devs)]
				at := d.clock.Now().Add(-time.Duration(w*each+i) * time.Second).Format(time.RFC3339Nano)
				errs <- d.publish(dev, fmt.Sprintf(`{"temperature":{"value":%d,"updateTime":%q}}`, w*each+i, at))
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := d.count("SELECT count(*) FROM events"); n != workers*each {
		t.Fatalf("%d events stored, want %d", n, workers*each)
	}
	tx := d.counter.Transactions() - before
	t.Logf("%d publishes in %d transactions", workers*each, tx)
	if tx >= workers*each {
		t.Errorf("%d transactions for %d publishes: nothing was batched", tx, workers*each)
	}
	if len(sub.Events()) != workers*each {
		t.Errorf("the stream got %d events, want %d", len(sub.Events()), workers*each)
	}
	// The newest event of each device (the smallest w*each+i, dated latest)
	// is its reported temperature, whatever order the batches took.
	for i, dev := range devs {
		got, err := d.store.DeviceByID(d.ctx, dev.ID)
		if err != nil {
			t.Fatal(err)
		}
		newest := -1
		for w := 0; w < workers && newest < 0; w++ {
			for k := 0; k < each; k++ {
				if (w+k)%len(devs) == i && (newest < 0 || w*each+k < newest) {
					newest = w*each + k
				}
			}
		}
		if !strings.Contains(string(got.Reported[domain.EventTemperature]), fmt.Sprintf(`"value":%d,`, newest)) {
			t.Errorf("device %d reported %s, want value %d", i, got.Reported[domain.EventTemperature], newest)
		}
	}
}

// TestEventLogOneFailureStaysAlone: in a batch, an event whose device is
// gone fails alone; a hook that fails rolls its whole batch back, so no
// event is stored without what the hook writes (issue 15's outbox).
func TestEventLogOneFailureStaysAlone(t *testing.T) {
	d := newDevEnv(t)
	gone := d.emulated(d.b.inventory, domain.DeviceTouch, nil)
	kept := d.emulated(d.b.inventory, domain.DeviceTouch, nil)
	ev := func(dev domain.Device) domain.Event {
		return domain.Event{ID: domain.NewID(d.clock.Now()), DeviceID: dev.ID, ProjectID: dev.ProjectID, Type: domain.EventTouch,
			Time: d.clock.Now(), Body: json.RawMessage(`{"updateTime":"` + domain.WireTime(d.clock.Now()) + `"}`), DeviceType: dev.Type}
	}
	if err := d.devices.DeleteEmulated(d.ctx, d.b.principal, gone.ProjectID, gone.ID); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	results := make([]error, 40)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dev := kept
			if i%4 == 0 {
				dev = gone
			}
			results[i] = d.log.Publish(d.ctx, ev(dev))
		}()
	}
	wg.Wait()
	for i, err := range results {
		if i%4 == 0 && domain.ErrorCode(err) != domain.ENOTFOUND {
			t.Errorf("publish %d to the deleted device: %v, want not found", i, err)
		}
		if i%4 != 0 && err != nil {
			t.Errorf("publish %d: %v", i, err)
		}
	}
	if n := d.count("SELECT count(*) FROM events WHERE device_id = ?", kept.ID); n != 30 {
		t.Fatalf("%d events of the kept device, want 30", n)
	}
	// A hook that fails: nothing of its batch is stored.
	boom := errors.New("outbox full")
	var seen []domain.Event
	d.log.AddHook(func(ctx context.Context, tx domain.Tx, events []domain.Event) error {
		seen = append(seen, events...)
		return boom
	})
	if err := d.log.Publish(d.ctx, ev(kept)); !errors.Is(err, boom) {
		t.Fatalf("publish with a failing hook: %v", err)
	}
	if len(seen) != 1 || seen[0].DeviceID != kept.ID {
		t.Fatalf("the hook saw %+v", seen)
	}
	if n := d.count("SELECT count(*) FROM events WHERE device_id = ?", kept.ID); n != 30 {
		t.Fatalf("%d events after the failed batch, want still 30", n)
	}
}

// handClock is a Clock whose timers fire when the test says.
type handClock struct {
	now   func() time.Time
	fires chan chan time.Time
}

func (c handClock) Now() time.Time { return c.now() }
func (c handClock) After(time.Duration) <-chan time.Time {
	ch := make(chan time.Time, 1)
	c.fires <- ch
	return ch
}

// TestEventPruner: events past the retention go in batches of
// PruneBatch, each its own transaction; newer ones stay; Run prunes on
// each tick of its clock and stops with its context.
func TestEventPruner(t *testing.T) {
	d := newDevEnv(t)
	dev := d.emulated(d.b.inventory, domain.DeviceTouch, nil)
	old := d.clock.Now().Add(-40 * 24 * time.Hour)
	var events []domain.Event
	for i := 0; i < 2*domain.PruneBatch+500; i++ {
		at := old.Add(time.Duration(i) * time.Second)
		events = append(events, domain.Event{ID: domain.NewID(at), DeviceID: dev.ID, ProjectID: dev.ProjectID, Type: domain.EventTouch, Time: at, Body: json.RawMessage(`{}`)})
	}
	for i := 0; i < 10; i++ {
		at := d.clock.Now().Add(-time.Duration(i) * time.Hour)
		events = append(events, domain.Event{ID: domain.NewID(at), DeviceID: dev.ID, ProjectID: dev.ProjectID, Type: domain.EventTouch, Time: at, Body: json.RawMessage(`{}`)})
	}
	if err := d.store.Update(d.ctx, func(tx domain.Tx) error { return tx.AddEvents(d.ctx, events) }); err != nil {
		t.Fatal(err)
	}
	hc := handClock{now: d.clock.Now, fires: make(chan chan time.Time, 1)}
	p := domain.NewEventPruner(d.store, hc, 31*24*time.Hour, time.Minute)
	var pruned []int
	p.OnPruned = func(n int) { pruned = append(pruned, n) }
	before := d.counter.Transactions()
	ctx, cancel := context.WithCancel(d.ctx)
	done := make(chan struct{})
	go func() { p.Run(ctx); close(done) }()
	tick := <-hc.fires // the first round ran, Run waits for the next
	if n := d.count("SELECT count(*) FROM events"); n != 10 {
		t.Fatalf("%d events left, want the 10 within the retention", n)
	}
	if tx := d.counter.Transactions() - before; tx != 3 {
		t.Errorf("pruning %d events took %d transactions, want 3 batches", 2*domain.PruneBatch+500, tx)
	}
	// 31 days less 90 minutes on, the events of 2 h ago and older pass the retention.
	d.clock.Advance(31*24*time.Hour - 90*time.Minute)
	tick <- d.clock.Now()
	<-hc.fires
	if n := d.count("SELECT count(*) FROM events"); n != 2 {
		t.Fatalf("%d events left after the clock moved, want 2", n)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not stop with its context")
	}
	if len(pruned) != 2 || pruned[0] != 2*domain.PruneBatch+500 || pruned[1] != 8 {
		t.Errorf("OnPruned told %v", pruned)
	}
}

// TestDemoEmulator: --demo gives the demo projects emulated sensors with a
// day of history (once), and each step publishes plausible events.
func TestDemoEmulator(t *testing.T) {
	d := newDevEnv(t)
	if _, err := d.accounts.SeedDemo(d.ctx, "admin@example.com", "d21s.com"); err != nil {
		t.Fatal(err)
	}
	hc := handClock{now: d.clock.Now, fires: make(chan chan time.Time, 1)}
	emu := domain.NewDemoEmulator(d.devices, hc, time.Second, 7)
	n, err := emu.Seed(d.ctx)
	if err != nil || n != domain.DemoDeviceCount() {
		t.Fatalf("seeded %d devices (%v), want %d", n, err, domain.DemoDeviceCount())
	}
	if again, err := emu.Seed(d.ctx); err != nil || again != 0 {
		t.Fatalf("a second seed made %d devices (%v), want none", again, err)
	}
	if n := d.count("SELECT count(*) FROM events WHERE event_type = 'temperature'"); n < 3*80 {
		t.Fatalf("%d temperature events after seeding, want a day of them for each temperature sensor", n)
	}
	if offline := d.count("SELECT count(*) FROM devices WHERE last_seen = 0"); offline != 0 {
		t.Errorf("%d demo devices have never been seen", offline)
	}
	before := d.count("SELECT count(*) FROM events")
	published := 0
	for i := 0; i < 30; i++ {
		d.clock.Advance(5 * time.Second)
		k, err := emu.Step(d.ctx)
		if err != nil {
			t.Fatal(err)
		}
		published += k
	}
	if published == 0 || d.count("SELECT count(*) FROM events") != before+published {
		t.Fatalf("30 steps published %d events; the history grew by %d", published, d.count("SELECT count(*) FROM events")-before)
	}
	// Freezers stay freezing.
	rows, err := d.raw.Query(`SELECT json_extract(reported, '$.temperature.value') FROM devices WHERE json_extract(labels, '$.name') LIKE 'Freezer%'`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var v float64
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		if v > -10 || v < -30 {
			t.Errorf("a freezer reports %v °C", v)
		}
	}
	// Run stops with its context.
	ctx, cancel := context.WithCancel(d.ctx)
	done := make(chan struct{})
	go func() { emu.Run(ctx); close(done) }()
	<-hc.fires
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not stop")
	}
}
