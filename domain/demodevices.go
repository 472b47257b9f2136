package domain

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"time"
)

// demoDevice is one emulated device of the demo organization.
type demoDevice struct {
	Project string // the demo project's name
	Name    string
	Type    DeviceType
	// Base is the value it hovers around (°C, % or ppm).
	Base float64
}

var demoDevices = []demoDevice{
	{"Cold chain", "Freezer A", DeviceTemperature, -18},
	{"Cold chain", "Freezer B", DeviceTemperature, -20},
	{"Cold chain", "Cold room", DeviceTemperature, 4},
	{"Cold chain", "Cold room door", DeviceContact, 0},
	{"Cold chain", "Loading dock", DeviceHumidity, 70},
	{"Office climate", "Meeting room", DeviceCO2, 650},
	{"Office climate", "Open office", DeviceHumidity, 40},
	{"Office climate", "Desk 1", DeviceDeskOccupancy, 0},
	{"Office climate", "Desk 2", DeviceDeskOccupancy, 0},
	{"Office climate", "Hallway", DeviceMotion, 0},
	{"Office climate", "Reception button", DeviceTouch, 0},
	{"Warehouse sensors", "Gate 1", DeviceProximity, 0},
	{"Warehouse sensors", "Server room floor", DeviceWaterDetector, 0},
	{"Warehouse sensors", "Entrance counter", DeviceProximityCounter, 0},
	{"Warehouse sensors", "Feedback button", DeviceTouchCounter, 0},
	{"Warehouse sensors", "Warehouse", DeviceTemperature, 15},
	{"Warehouse sensors", "Warehouse gateway", DeviceCloudConnector, 0},
}

// demoProjects returns the demo organization's projects by name (none
// when there is no demo organization).
func (s *Devices) demoProjects(ctx context.Context) (map[string]Project, error) {
	out := map[string]Project{}
	after := Cursor{}
	for {
		orgs, err := s.store.ListOrganizations(ctx, AccountRef{}, after, 100)
		if err != nil {
			return nil, err
		}
		for _, o := range orgs {
			if o.DisplayName != DemoOrganizationName {
				continue
			}
			projects, err := s.store.ListProjects(ctx, ProjectFilter{OrganizationID: o.ID}, Cursor{}, 100)
			if err != nil {
				return nil, err
			}
			for _, p := range projects {
				out[p.DisplayName] = p
			}
			return out, nil
		}
		if len(orgs) < 100 {
			return out, nil
		}
		after = Cursor{Key: nameKeyOf(orgs[len(orgs)-1].DisplayName), ID: orgs[len(orgs)-1].ID}
	}
}

func nameKeyOf(s string) string { return ProjectCursor(Project{DisplayName: s}).Key }

// SeedDemoDevices gives the demo organization's projects their emulated
// sensors (once: a project that has emulated devices is left alone),
// each with its status and a day of history, so that a new user sees a
// living product. It says how many devices it made.
func (s *Devices) SeedDemoDevices(ctx context.Context, rng *rand.Rand) (int, error) {
	projects, err := s.demoProjects(ctx)
	if err != nil {
		return 0, err
	}
	now := s.now()
	made := 0
	seeded := map[string]bool{}
	for _, dd := range demoDevices {
		proj, ok := projects[dd.Project]
		if !ok {
			continue
		}
		if _, checked := seeded[proj.ID]; !checked {
			some, err := s.store.ListDevices(ctx, DeviceFilter{ProjectID: proj.ID, EmulatedOnly: true}, Cursor{}, 1)
			if err != nil {
				return made, err
			}
			seeded[proj.ID] = len(some) == 0
		}
		if !seeded[proj.ID] {
			continue
		}
		d := Device{ID: NewEmulatedDeviceID(now), ProjectID: proj.ID, Type: dd.Type, Emulated: true, CreateTime: now.Add(-24 * time.Hour),
			Labels: map[string]string{"name": dd.Name, VirtualSensorLabel: "", "demo": ""}, Reported: Reported{}}
		history := demoHistory(d, dd, now, rng)
		err := s.store.Update(ctx, func(tx Tx) error {
			if err := tx.CreateDevice(ctx, d); err != nil {
				return err
			}
			e := auditEntry(System, now, ActionEmulatorCreate, "device", d.ID, dd.Name)
			e.OrganizationID, e.ProjectID, e.Detail = proj.OrganizationID, proj.ID, string(d.Type)
			if err := tx.AddAudit(ctx, e); err != nil {
				return err
			}
			dev := d
			return s.log.Record(ctx, tx, history, map[string]*Device{d.ID: &dev})
		})
		if err != nil {
			return made, err
		}
		made++
	}
	return made, nil
}

// demoHistory is a device's last day: its main value every 15 minutes
// (or, for state sensors, a change now and then), with status events.
func demoHistory(d Device, dd demoDevice, now time.Time, rng *rand.Rand) []Event {
	sim := newDemoSim(dd.Type, dd.Base, rng)
	var out []Event
	add := func(et EventType, body map[string]any, at time.Time) {
		body["updateTime"] = WireTime(at)
		if e, err := demoEvent(d, et, body, now); err == nil {
			out = append(out, e)
		}
	}
	start := now.Add(-24 * time.Hour)
	for t := start; t.Before(now); t = t.Add(15 * time.Minute) {
		for _, ev := range sim.step(rng, 1) {
			add(ev.Type, ev.Body, t)
		}
	}
	if d.Type == DeviceCloudConnector {
		add(EventConnectionStatus, map[string]any{"connection": "ETHERNET"}, now)
		add(EventEthernetStatus, map[string]any{"macAddress": "f0:b5:b7:00:0a:08", "ipAddress": "10.0.0.12"}, now)
		add(EventCellularStatus, map[string]any{"signalStrength": 80}, now)
		return out
	}
	add(EventNetworkStatus, map[string]any{"signalStrength": 60 + rng.IntN(40)}, now)
	add(EventBatteryStatus, map[string]any{"percentage": sim.battery}, now)
	return out
}

// demoEvent builds a checked event of d from a body.
func demoEvent(d Device, et EventType, body map[string]any, now time.Time) (Event, error) {
	raw, _ := json.Marshal(body)
	b, err := ParseEventBody(et, raw, now)
	if err != nil {
		return Event{}, err
	}
	return Event{ID: NewID(now), DeviceID: d.ID, ProjectID: d.ProjectID, Type: et, Time: b.Time, Body: b.JSON,
		Value: b.Value, HasValue: b.HasValue, DeviceType: d.Type, ProductNumber: d.ProductNumber, Labels: d.Labels}, nil
}

// demoSim is the made-up life of one demo device.
type demoSim struct {
	typ     DeviceType
	base    float64
	value   float64 // temperature, relative humidity or ppm
	temp    float64 // a humidity sensor's temperature
	on      bool    // present, open, occupied, motion
	total   int64   // counters
	battery int
}

func newDemoSim(t DeviceType, base float64, rng *rand.Rand) *demoSim {
	return &demoSim{typ: t, base: base, value: base, temp: 21, battery: 60 + rng.IntN(41)}
}

type demoStep struct {
	Type EventType
	Body map[string]any
}

// step moves the device on by one tick; activity scales how often
// something happens. It returns the events of the tick.
func (s *demoSim) step(rng *rand.Rand, activity float64) []demoStep {
	var out []demoStep
	chance := func(p float64) bool { return rng.Float64() < p*activity }
	round1 := func(v float64) float64 { return math.Round(v*10) / 10 }
	switch s.typ {
	case DeviceTemperature:
		if chance(1) {
			// A random walk pulled back towards the base.
			s.value += (s.base-s.value)*0.1 + rng.NormFloat64()*0.3
			out = append(out, demoStep{EventTemperature, map[string]any{"value": round1(s.value)}})
		}
	case DeviceHumidity:
		if chance(1) {
			s.value = math.Min(100, math.Max(0, s.value+(s.base-s.value)*0.1+rng.NormFloat64()))
			s.temp += (21-s.temp)*0.1 + rng.NormFloat64()*0.2
			out = append(out, demoStep{EventHumidity, map[string]any{"temperature": round1(s.temp), "relativeHumidity": round1(s.value)}})
		}
	case DeviceCO2:
		if chance(1) {
			s.value = math.Max(400, s.value+(s.base-s.value)*0.1+rng.NormFloat64()*40)
			out = append(out, demoStep{EventCO2, map[string]any{"ppm": math.Round(s.value)}})
		}
	case DeviceContact, DeviceProximity, DeviceMotion, DeviceDeskOccupancy, DeviceWaterDetector:
		p := map[DeviceType]float64{DeviceContact: 0.3, DeviceProximity: 0.3, DeviceMotion: 0.5, DeviceDeskOccupancy: 0.2, DeviceWaterDetector: 0.02}[s.typ]
		if s.typ == DeviceWaterDetector && s.on {
			p = 0.5 // a leak is found and fixed soon
		}
		if chance(p) {
			s.on = !s.on
			et := map[DeviceType]EventType{DeviceContact: EventContact, DeviceProximity: EventObjectPresent, DeviceMotion: EventMotion,
				DeviceDeskOccupancy: EventDeskOccupancy, DeviceWaterDetector: EventWaterPresent}[s.typ]
			states := EventStates(et)
			state := states[1]
			if s.on {
				state = states[0]
			}
			out = append(out, demoStep{et, map[string]any{"state": state}})
		}
	case DeviceTouch:
		if chance(0.2) {
			out = append(out, demoStep{EventTouch, map[string]any{}})
		}
	case DeviceProximityCounter, DeviceTouchCounter:
		if chance(0.8) {
			s.total += int64(1 + rng.IntN(5))
			et := EventObjectPresentCount
			if s.typ == DeviceTouchCounter {
				et = EventTouchCount
			}
			out = append(out, demoStep{et, map[string]any{"total": s.total}})
		}
	case DeviceCloudConnector:
		if chance(0.05) {
			out = append(out, demoStep{EventCellularStatus, map[string]any{"signalStrength": 60 + rng.IntN(40)}})
		}
		return out
	}
	if chance(0.05) {
		out = append(out, demoStep{EventNetworkStatus, map[string]any{"signalStrength": 50 + rng.IntN(50)}})
	}
	// The battery drains by a percent now and then (about every few hours).
	if s.battery > 1 && chance(0.002) {
		s.battery--
		out = append(out, demoStep{EventBatteryStatus, map[string]any{"percentage": s.battery}})
	}
	return out
}

// DemoEmulator makes the demo organization's emulated devices publish
// plausible events every few seconds (temperatures drifting, doors
// opening, touches, batteries slowly draining) until its context ends.
type DemoEmulator struct {
	devices *Devices
	clock   Clock
	every   time.Duration
	rng     *rand.Rand
	sims    map[string]*demoSim
	list    []Device
	steps   int
	// OnError is told of a failed step.
	OnError func(error)
}

// DemoEmulatorEvery is how often the demo emulator ticks.
const DemoEmulatorEvery = 5 * time.Second

// NewDemoEmulator returns the demo emulator; seed makes its randomness
// repeatable in tests.
func NewDemoEmulator(devices *Devices, clock Clock, every time.Duration, seed uint64) *DemoEmulator {
	if every <= 0 {
		every = DemoEmulatorEvery
	}
	return &DemoEmulator{devices: devices, clock: clock, every: every, rng: rand.New(rand.NewPCG(seed, seed^0x5eed)), sims: map[string]*demoSim{}}
}

// Seed gives the demo projects their devices (see Devices.SeedDemoDevices).
func (e *DemoEmulator) Seed(ctx context.Context) (int, error) {
	return e.devices.SeedDemoDevices(ctx, e.rng)
}

// Step publishes one tick of events and says how many.
func (e *DemoEmulator) Step(ctx context.Context) (int, error) {
	if e.steps%60 == 0 || len(e.list) == 0 {
		if err := e.load(ctx); err != nil {
			return 0, err
		}
	}
	e.steps++
	n := 0
	for _, d := range e.list {
		sim := e.sims[d.ID]
		for _, st := range sim.step(e.rng, 0.1) {
			if _, err := e.devices.publishBody(ctx, d, st.Type, st.Body); err != nil {
				if ErrorCode(err) == ENOTFOUND {
					break // deleted or moved away: the next load drops it
				}
				return n, err
			}
			n++
		}
	}
	return n, nil
}

// load reads the demo projects' emulated devices, keeping what it knew
// of those it drove already.
func (e *DemoEmulator) load(ctx context.Context) error {
	projects, err := e.devices.demoProjects(ctx)
	if err != nil {
		return err
	}
	var list []Device
	for _, p := range projects {
		after := Cursor{}
		for {
			page, err := e.devices.store.ListDevices(ctx, DeviceFilter{ProjectID: p.ID, EmulatedOnly: true}, after, 100)
			if err != nil {
				return err
			}
			list = append(list, page...)
			if len(page) < 100 {
				break
			}
			after = DeviceOrder{}.cursor(page[len(page)-1])
		}
	}
	sims := map[string]*demoSim{}
	for _, d := range list {
		if sim, ok := e.sims[d.ID]; ok {
			sims[d.ID] = sim
			continue
		}
		base := 0.0
		for _, dd := range demoDevices {
			if dd.Name == d.Labels["name"] && dd.Type == d.Type {
				base = dd.Base
			}
		}
		sim := newDemoSim(d.Type, base, e.rng)
		sim.resume(d)
		sims[d.ID] = sim
	}
	e.list, e.sims = list, sims
	return nil
}

// resume starts a simulation where the device's reported left off.
func (s *demoSim) resume(d Device) {
	var v struct {
		Value            *float64 `json:"value"`
		PPM              *float64 `json:"ppm"`
		RelativeHumidity *float64 `json:"relativeHumidity"`
		Temperature      *float64 `json:"temperature"`
		State            string   `json:"state"`
		Total            int64    `json:"total"`
		Percentage       *int     `json:"percentage"`
	}
	info, _ := LookupDeviceType(d.Type)
	_ = json.Unmarshal(d.Reported[info.Main], &v)
	switch {
	case v.Value != nil:
		s.value = *v.Value
	case v.PPM != nil:
		s.value = *v.PPM
	case v.RelativeHumidity != nil:
		s.value = *v.RelativeHumidity
		if v.Temperature != nil {
			s.temp = *v.Temperature
		}
	}
	if s.base == 0 && (d.Type == DeviceTemperature || d.Type == DeviceHumidity || d.Type == DeviceCO2) {
		s.base = s.value
	}
	s.on = v.State != "" && v.State == EventStates(info.Main)[0]
	s.total = v.Total
	var b struct {
		Percentage *int `json:"percentage"`
	}
	if json.Unmarshal(d.Reported[EventBatteryStatus], &b) == nil && b.Percentage != nil {
		s.battery = *b.Percentage
	}
}

// Run seeds nothing: it publishes a tick every interval until ctx ends.
func (e *DemoEmulator) Run(ctx context.Context) {
	for {
		if _, err := e.Step(ctx); err != nil && ctx.Err() == nil && e.OnError != nil {
			e.OnError(err)
		}
		select {
		case <-ctx.Done():
			return
		case <-e.clock.After(e.every):
		}
	}
}

// publishBody publishes an event of d built from a body, as the system.
func (s *Devices) publishBody(ctx context.Context, d Device, et EventType, body map[string]any) (Event, error) {
	raw, err := json.Marshal(body)
	if err != nil {
		return Event{}, fmt.Errorf("demo event %s: %w", et, err)
	}
	return s.publish(ctx, d, et, raw)
}

// DemoDeviceCount is how many devices the demo seeds.
func DemoDeviceCount() int { return len(demoDevices) }
