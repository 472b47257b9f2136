package domain

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"
)

// The bodies of events as the API writes them (api-v2-devices.md §1). The
// original's clients read every field without a default, so every field
// is always written: no omitempty, empty lists as [].

// WireTime is a time as the API writes it: RFC 3339 UTC with microseconds.
func WireTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000Z") }

type touchBody struct {
	UpdateTime string `json:"updateTime"`
}

type temperatureSample struct {
	Value      float64 `json:"value"`
	SampleTime string  `json:"sampleTime"`
}

type temperatureBody struct {
	Value        float64             `json:"value"`
	UpdateTime   string              `json:"updateTime"`
	Samples      []temperatureSample `json:"samples"`
	IsBackfilled bool                `json:"isBackfilled"`
}

type humiditySample struct {
	Temperature      float64 `json:"temperature"`
	RelativeHumidity float64 `json:"relativeHumidity"`
	SampleTime       string  `json:"sampleTime"`
}

type humidityBody struct {
	Temperature      float64          `json:"temperature"`
	RelativeHumidity float64          `json:"relativeHumidity"`
	UpdateTime       string           `json:"updateTime"`
	Samples          []humiditySample `json:"samples"`
	IsBackfilled     bool             `json:"isBackfilled"`
}

type stateBody struct {
	State      string `json:"state"`
	UpdateTime string `json:"updateTime"`
}

type countBody struct {
	Total      int64  `json:"total"`
	UpdateTime string `json:"updateTime"`
}

type co2Body struct {
	PPM        float64 `json:"ppm"`
	UpdateTime string  `json:"updateTime"`
}

type pressureBody struct {
	Pascal     float64 `json:"pascal"`
	UpdateTime string  `json:"updateTime"`
}

type deskOccupancyBody struct {
	State      string   `json:"state"`
	Remarks    []string `json:"remarks"`
	UpdateTime string   `json:"updateTime"`
}

type cloudConnectorSignal struct {
	ID             string  `json:"id"`
	SignalStrength int64   `json:"signalStrength"`
	RSSI           float64 `json:"rssi"`
}

type networkStatusBody struct {
	SignalStrength   int64                  `json:"signalStrength"`
	RSSI             float64                `json:"rssi"`
	UpdateTime       string                 `json:"updateTime"`
	CloudConnectors  []cloudConnectorSignal `json:"cloudConnectors"`
	TransmissionMode string                 `json:"transmissionMode"`
}

type batteryStatusBody struct {
	Percentage int64  `json:"percentage"`
	UpdateTime string `json:"updateTime"`
}

// LabelsChangedBody is the data of a labelsChanged event. The contract's
// body is added, modified and removed; the Python client also reads
// updateTime, so it is written too.
type LabelsChangedBody struct {
	Added      map[string]string `json:"added"`
	Modified   map[string]string `json:"modified"`
	Removed    []string          `json:"removed"`
	UpdateTime string            `json:"updateTime"`
}

type connectionStatusBody struct {
	Connection string   `json:"connection"`
	Available  []string `json:"available"`
	UpdateTime string   `json:"updateTime"`
}

type statusError struct {
	Code    int64  `json:"code"`
	Message string `json:"message"`
}

type ethernetStatusBody struct {
	MacAddress string        `json:"macAddress"`
	IPAddress  string        `json:"ipAddress"`
	Errors     []statusError `json:"errors"`
	UpdateTime string        `json:"updateTime"`
}

type cellularStatusBody struct {
	SignalStrength int64         `json:"signalStrength"`
	Errors         []statusError `json:"errors"`
	UpdateTime     string        `json:"updateTime"`
}

// EventBody is a checked, complete event body.
type EventBody struct {
	JSON json.RawMessage
	// Time is the body's updateTime: the event's timestamp.
	Time time.Time
	// Value is the number the console charts for this event, when it has one
	// (a state is 1 when present, open, occupied or detecting motion).
	Value    float64
	HasValue bool
}

// The states of the state events.
var eventStates = map[EventType][]string{
	EventObjectPresent:   {"PRESENT", "NOT_PRESENT"},
	EventWaterPresent:    {"PRESENT", "NOT_PRESENT"},
	EventMotion:          {"MOTION_DETECTED", "NO_MOTION_DETECTED"},
	EventContact:         {"OPEN", "CLOSED"},
	EventDeskOccupancy:   {"OCCUPIED", "NOT_OCCUPIED"},
	EventProbeWireStatus: {"TWO_WIRE", "THREE_WIRE", "FOUR_WIRE", "INVALID_WIRE_CONFIGURATION", "INVALID_COEFFICIENT_CONFIGURATION"},
}

// EventStates lists the states a state event takes, the "on" state first.
func EventStates(et EventType) []string { return eventStates[et] }

// Bounds of published times: an emulated device may backfill, but not
// from before the epoch of these sensors nor from the far future.
var (
	earliestEventTime = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	maxFutureSkew     = 24 * time.Hour
)

// MaxEventBody bounds a published body (a body's samples and lists stay small).
const MaxEventBody = 16 << 10

// ParseEventBody checks a published body of type et and completes it as
// the contract writes it: a missing updateTime is now, missing samples
// are one sample of the value at updateTime, missing lists are empty.
// Times take any fraction and offset and come back in UTC. Python sends
// networkStatus's cloudConnectors as cloud_connectors: both are read.
// Unknown fields are refused, naming the field.
func ParseEventBody(et EventType, raw json.RawMessage, now time.Time) (EventBody, error) {
	if len(raw) > MaxEventBody {
		return EventBody{}, Errorf(EINVALID, "The %s body is larger than %d bytes.", et, MaxEventBody)
	}
	f, err := readFields(string(et), raw)
	if err != nil {
		return EventBody{}, err
	}
	updated := f.time("updateTime", now)
	ut := WireTime(updated)
	var body any
	var value float64
	hasValue := true
	switch et {
	case EventTouch:
		body, value = touchBody{UpdateTime: ut}, 1
	case EventTemperature:
		b := temperatureBody{Value: f.number("value", true, -273.15, 1000), UpdateTime: ut, Samples: []temperatureSample{}}
		b.IsBackfilled = f.boolean("isBackfilled")
		for i, s := range f.list("samples") {
			sf, err := readFields(fmt.Sprintf("%s.samples[%d]", et, i), s)
			if err != nil {
				return EventBody{}, err
			}
			b.Samples = append(b.Samples, temperatureSample{Value: sf.number("value", true, -273.15, 1000), SampleTime: WireTime(sf.time("sampleTime", updated))})
			if err := sf.done(); err != nil {
				return EventBody{}, err
			}
		}
		if !f.has("samples") {
			b.Samples = append(b.Samples, temperatureSample{Value: b.Value, SampleTime: ut})
		}
		body, value = b, b.Value
	case EventHumidity:
		b := humidityBody{Temperature: f.number("temperature", true, -273.15, 1000), RelativeHumidity: f.number("relativeHumidity", true, 0, 100),
			UpdateTime: ut, Samples: []humiditySample{}}
		b.IsBackfilled = f.boolean("isBackfilled")
		for i, s := range f.list("samples") {
			sf, err := readFields(fmt.Sprintf("%s.samples[%d]", et, i), s)
			if err != nil {
				return EventBody{}, err
			}
			b.Samples = append(b.Samples, humiditySample{Temperature: sf.number("temperature", true, -273.15, 1000),
				RelativeHumidity: sf.number("relativeHumidity", true, 0, 100), SampleTime: WireTime(sf.time("sampleTime", updated))})
			if err := sf.done(); err != nil {
				return EventBody{}, err
			}
		}
		if !f.has("samples") {
			b.Samples = append(b.Samples, humiditySample{Temperature: b.Temperature, RelativeHumidity: b.RelativeHumidity, SampleTime: ut})
		}
		body, value = b, b.RelativeHumidity
	case EventObjectPresent, EventWaterPresent, EventMotion, EventContact, EventProbeWireStatus:
		b := stateBody{State: f.enum("state", eventStates[et]...), UpdateTime: ut}
		body = b
		value = boolValue(b.State == eventStates[et][0])
		hasValue = et != EventProbeWireStatus
	case EventDeskOccupancy:
		b := deskOccupancyBody{State: f.enum("state", eventStates[et]...), Remarks: []string{}, UpdateTime: ut}
		for i, r := range f.list("remarks") {
			var s string
			if err := json.Unmarshal(r, &s); err != nil || len(s) > 100 {
				f.fail(fmt.Sprintf("remarks[%d] must be a string of at most 100 characters", i))
			}
			b.Remarks = append(b.Remarks, s)
		}
		body, value = b, boolValue(b.State == "OCCUPIED")
	case EventObjectPresentCount, EventTouchCount:
		b := countBody{Total: f.integer("total", true, 0, math.MaxInt32), UpdateTime: ut}
		body, value = b, float64(b.Total)
	case EventCO2:
		b := co2Body{PPM: f.number("ppm", true, 0, 100000), UpdateTime: ut}
		body, value = b, b.PPM
	case EventPressure:
		b := pressureBody{Pascal: f.number("pascal", true, 0, 1e7), UpdateTime: ut}
		body, value = b, b.Pascal
	case EventNetworkStatus:
		b := networkStatusBody{SignalStrength: f.integer("signalStrength", true, 0, 100), UpdateTime: ut, CloudConnectors: []cloudConnectorSignal{},
			TransmissionMode: "LOW_POWER_STANDARD_MODE"}
		b.RSSI = f.number("rssi", false, -200, 0)
		if !f.has("rssi") {
			b.RSSI = rssiOf(b.SignalStrength)
		}
		if f.has("transmissionMode") {
			b.TransmissionMode = f.enum("transmissionMode", "LOW_POWER_STANDARD_MODE", "HIGH_POWER_BOOST_MODE")
		}
		list := f.list("cloudConnectors")
		if f.has("cloud_connectors") {
			list = f.list("cloud_connectors")
		}
		for i, c := range list {
			cf, err := readFields(fmt.Sprintf("%s.cloudConnectors[%d]", et, i), c)
			if err != nil {
				return EventBody{}, err
			}
			cc := cloudConnectorSignal{ID: cf.str("id", true, 64), SignalStrength: cf.integer("signalStrength", true, 0, 100)}
			cc.RSSI = cf.number("rssi", false, -200, 0)
			if !cf.has("rssi") {
				cc.RSSI = rssiOf(cc.SignalStrength)
			}
			if err := cf.done(); err != nil {
				return EventBody{}, err
			}
			b.CloudConnectors = append(b.CloudConnectors, cc)
		}
		body, value = b, float64(b.SignalStrength)
	case EventBatteryStatus:
		b := batteryStatusBody{Percentage: f.integer("percentage", true, 0, 100), UpdateTime: ut}
		body, value = b, float64(b.Percentage)
	case EventConnectionStatus:
		b := connectionStatusBody{Connection: f.enum("connection", "ETHERNET", "CELLULAR", "OFFLINE", "SDS"), Available: []string{}, UpdateTime: ut}
		if f.has("available") {
			for i, a := range f.list("available") {
				var s string
				if json.Unmarshal(a, &s) != nil || (s != "ETHERNET" && s != "CELLULAR") {
					f.fail(fmt.Sprintf("available[%d] must be ETHERNET or CELLULAR", i))
				}
				b.Available = append(b.Available, s)
			}
		} else if b.Connection == "ETHERNET" || b.Connection == "CELLULAR" {
			b.Available = append(b.Available, b.Connection)
		}
		body, hasValue = b, false
	case EventEthernetStatus:
		b := ethernetStatusBody{MacAddress: f.str("macAddress", false, 64), IPAddress: f.str("ipAddress", false, 64),
			Errors: f.errors(), UpdateTime: ut}
		body, hasValue = b, false
	case EventCellularStatus:
		b := cellularStatusBody{SignalStrength: f.integer("signalStrength", true, 0, 100), Errors: f.errors(), UpdateTime: ut}
		body, value = b, float64(b.SignalStrength)
	default:
		return EventBody{}, Errorf(EINVALID, "Events of type %q cannot be published.", et)
	}
	if err := f.done(); err != nil {
		return EventBody{}, err
	}
	if updated.Before(earliestEventTime) || updated.After(now.Add(maxFutureSkew)) {
		return EventBody{}, Errorf(EINVALID, "%s.updateTime must be after 2000 and at most a day ahead of now.", et)
	}
	out, err := json.Marshal(body)
	if err != nil {
		return EventBody{}, err
	}
	return EventBody{JSON: out, Time: updated, Value: value, HasValue: hasValue}, nil
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// rssiOf estimates a received signal strength (dBm) from the 0–100 scale,
// for bodies that give only the scale.
func rssiOf(signalStrength int64) float64 { return float64(-100 + signalStrength/2) }

// LabelsChangedEventBody is the body of a labelsChanged event.
func LabelsChangedEventBody(b LabelsChangedBody) EventBody {
	if b.Added == nil {
		b.Added = map[string]string{}
	}
	if b.Modified == nil {
		b.Modified = map[string]string{}
	}
	if b.Removed == nil {
		b.Removed = []string{}
	}
	sort.Strings(b.Removed)
	t, _ := time.Parse(time.RFC3339Nano, b.UpdateTime)
	raw, _ := json.Marshal(b)
	return EventBody{JSON: raw, Time: t}
}

// fields reads a JSON object's fields one by one, keeping the first
// problem, and knows which it read so that done can refuse the others.
type fields struct {
	where string
	m     map[string]json.RawMessage
	used  map[string]bool
	err   error
}

func readFields(where string, raw json.RawMessage) (*fields, error) {
	var m map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&m); err != nil || m == nil || dec.More() {
		return nil, Errorf(EINVALID, "%s must be a JSON object.", where)
	}
	return &fields{where: where, m: m, used: map[string]bool{}}, nil
}

func (f *fields) fail(msg string) {
	if f.err == nil {
		f.err = Errorf(EINVALID, "%s.%s.", f.where, msg)
	}
}

// has reports whether the field is present and not null.
func (f *fields) has(name string) bool {
	v, ok := f.m[name]
	f.used[name] = true
	return ok && string(v) != "null"
}

func (f *fields) number(name string, required bool, lo, hi float64) float64 {
	if !f.has(name) {
		if required {
			f.fail(name + " is required")
		}
		return 0
	}
	var n float64
	if err := json.Unmarshal(f.m[name], &n); err != nil {
		f.fail(name + " must be a number")
		return 0
	}
	if n < lo || n > hi {
		f.fail(fmt.Sprintf("%s must be between %g and %g", name, lo, hi))
	}
	return n
}

func (f *fields) integer(name string, required bool, lo, hi int64) int64 {
	n := f.number(name, required, float64(lo), float64(hi))
	if n != math.Trunc(n) {
		f.fail(name + " must be a whole number")
	}
	return int64(n)
}

func (f *fields) str(name string, required bool, max int) string {
	if !f.has(name) {
		if required {
			f.fail(name + " is required")
		}
		return ""
	}
	var s string
	if err := json.Unmarshal(f.m[name], &s); err != nil {
		f.fail(name + " must be a string")
	} else if len(s) > max {
		f.fail(fmt.Sprintf("%s must be at most %d characters", name, max))
	}
	return s
}

func (f *fields) enum(name string, allowed ...string) string {
	s := f.str(name, true, 64)
	for _, a := range allowed {
		if s == a {
			return s
		}
	}
	f.fail(name + " must be one of " + strings.Join(allowed, ", "))
	return ""
}

func (f *fields) boolean(name string) bool {
	if !f.has(name) {
		return false
	}
	var b bool
	if err := json.Unmarshal(f.m[name], &b); err != nil {
		f.fail(name + " must be true or false")
	}
	return b
}

// time reads a time in RFC 3339 with any fraction and offset; absent, def.
func (f *fields) time(name string, def time.Time) time.Time {
	if !f.has(name) {
		return def.UTC().Truncate(time.Microsecond)
	}
	var s string
	if err := json.Unmarshal(f.m[name], &s); err != nil {
		f.fail(name + " must be an RFC 3339 time")
		return def
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		f.fail(name + " must be an RFC 3339 time such as 2024-05-29T10:34:03.970415Z")
		return def
	}
	return t.UTC().Truncate(time.Microsecond)
}

// list reads an array field; absent or null is empty.
func (f *fields) list(name string) []json.RawMessage {
	if !f.has(name) {
		return nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(f.m[name], &items); err != nil {
		f.fail(name + " must be a list")
		return nil
	}
	if len(items) > 100 {
		f.fail(name + " must have at most 100 items")
		return nil
	}
	return items
}

// errors reads a status's errors list of {code, message}.
func (f *fields) errors() []statusError {
	out := []statusError{}
	for i, e := range f.list("errors") {
		ef, err := readFields(fmt.Sprintf("%s.errors[%d]", f.where, i), e)
		if err != nil {
			if f.err == nil {
				f.err = err
			}
			return out
		}
		se := statusError{Code: ef.integer("code", false, math.MinInt32, math.MaxInt32), Message: ef.str("message", false, 256)}
		if err := ef.done(); err != nil && f.err == nil {
			f.err = err
		}
		out = append(out, se)
	}
	return out
}

// done returns the first problem, or names a field nobody read.
func (f *fields) done() error {
	if f.err != nil {
		return f.err
	}
	var unknown []string
	for k := range f.m {
		if !f.used[k] {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		name := unknown[0]
		if len(name) > 64 {
			name = name[:64] + "…"
		}
		return Errorf(EINVALID, "%s has an unknown field %q.", f.where, name)
	}
	return nil
}
