package domain_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"studio/domain"
)

var published = time.Date(2026, 5, 29, 10, 34, 3, 970415000, time.UTC)

// TestParseEventBody: each published body comes back complete, as the
// clients read it, and bad ones are refused naming the problem.
func TestParseEventBody(t *testing.T) {
	now := published
	cases := []struct {
		et    domain.EventType
		in    string
		want  string // the whole completed body
		value float64
	}{
		{domain.EventTouch, `{}`, `{"updateTime":"2026-05-29T10:34:03.970415Z"}`, 1},
		{domain.EventTemperature, `{"value":21.5}`,
			`{"value":21.5,"updateTime":"2026-05-29T10:34:03.970415Z","samples":[{"value":21.5,"sampleTime":"2026-05-29T10:34:03.970415Z"}],"isBackfilled":false}`, 21.5},
		{domain.EventTemperature, `{"value":-4,"updateTime":"2026-05-29T12:00:00+02:00","samples":[],"isBackfilled":true}`,
			`{"value":-4,"updateTime":"2026-05-29T10:00:00.000000Z","samples":[],"isBackfilled":true}`, -4},
		{domain.EventHumidity, `{"temperature":21,"relativeHumidity":40.5,"updateTime":"2026-05-29T10:00:00.123Z"}`,
			`{"temperature":21,"relativeHumidity":40.5,"updateTime":"2026-05-29T10:00:00.123000Z","samples":[{"temperature":21,"relativeHumidity":40.5,"sampleTime":"2026-05-29T10:00:00.123000Z"}],"isBackfilled":false}`, 40.5},
		{domain.EventObjectPresent, `{"state":"PRESENT"}`, `{"state":"PRESENT","updateTime":"2026-05-29T10:34:03.970415Z"}`, 1},
		{domain.EventWaterPresent, `{"state":"NOT_PRESENT"}`, `{"state":"NOT_PRESENT","updateTime":"2026-05-29T10:34:03.970415Z"}`, 0},
		{domain.EventContact, `{"state":"CLOSED"}`, `{"state":"CLOSED","updateTime":"2026-05-29T10:34:03.970415Z"}`, 0},
		{domain.EventDeskOccupancy, `{"state":"OCCUPIED","remarks":["x"]}`, `{"state":"OCCUPIED","remarks":["x"],"updateTime":"2026-05-29T10:34:03.970415Z"}`, 1},
		{domain.EventTouchCount, `{"total":7}`, `{"total":7,"updateTime":"2026-05-29T10:34:03.970415Z"}`, 7},
		{domain.EventCO2, `{"ppm":812.5}`, `{"ppm":812.5,"updateTime":"2026-05-29T10:34:03.970415Z"}`, 812.5},
		{domain.EventNetworkStatus, `{"signalStrength":80,"cloud_connectors":[{"id":"c1","signalStrength":80}]}`,
			`{"signalStrength":80,"rssi":-60,"updateTime":"2026-05-29T10:34:03.970415Z","cloudConnectors":[{"id":"c1","signalStrength":80,"rssi":-60}],"transmissionMode":"LOW_POWER_STANDARD_MODE"}`, 80},
		{domain.EventNetworkStatus, `{"signalStrength":10,"rssi":-95.5,"transmissionMode":"HIGH_POWER_BOOST_MODE","cloudConnectors":[]}`,
			`{"signalStrength":10,"rssi":-95.5,"updateTime":"2026-05-29T10:34:03.970415Z","cloudConnectors":[],"transmissionMode":"HIGH_POWER_BOOST_MODE"}`, 10},
		{domain.EventBatteryStatus, `{"percentage":0}`, `{"percentage":0,"updateTime":"2026-05-29T10:34:03.970415Z"}`, 0},
		{domain.EventConnectionStatus, `{"connection":"OFFLINE"}`, `{"connection":"OFFLINE","available":[],"updateTime":"2026-05-29T10:34:03.970415Z"}`, 0},
		{domain.EventConnectionStatus, `{"connection":"ETHERNET","available":["ETHERNET","CELLULAR"]}`,
			`{"connection":"ETHERNET","available":["ETHERNET","CELLULAR"],"updateTime":"2026-05-29T10:34:03.970415Z"}`, 0},
		{domain.EventEthernetStatus, `{"macAddress":"m","ipAddress":"i"}`, `{"macAddress":"m","ipAddress":"i","errors":[],"updateTime":"2026-05-29T10:34:03.970415Z"}`, 0},
		{domain.EventCellularStatus, `{"signalStrength":5,"errors":[{"code":3,"message":"no sim"}]}`,
			`{"signalStrength":5,"errors":[{"code":3,"message":"no sim"}],"updateTime":"2026-05-29T10:34:03.970415Z"}`, 5},
	}
	for _, c := range cases {
		b, err := domain.ParseEventBody(c.et, json.RawMessage(c.in), now)
		if err != nil {
			t.Errorf("%s %s: %v", c.et, c.in, err)
			continue
		}
		if string(b.JSON) != c.want {
			t.Errorf("%s %s:\n got %s\nwant %s", c.et, c.in, b.JSON, c.want)
		}
		if b.HasValue && b.Value != c.value {
			t.Errorf("%s %s: value %v, want %v", c.et, c.in, b.Value, c.value)
		}
		var ut struct{ UpdateTime string }
		json.Unmarshal(b.JSON, &ut)
		if got := domain.WireTime(b.Time); got != ut.UpdateTime {
			t.Errorf("%s: time %s, body's updateTime %s", c.et, got, ut.UpdateTime)
		}
	}
	refusals := []struct {
		et   domain.EventType
		in   string
		says string
	}{
		{domain.EventTemperature, `{}`, "value is required"},
		{domain.EventTemperature, `{"value":null}`, "value is required"},
		{domain.EventTemperature, `{"value":-300}`, "between"},
		{domain.EventTemperature, `{"value":1,"samples":[{"sampleTime":"2026-05-29T10:00:00Z"}]}`, "samples[0].value is required"},
		{domain.EventTemperature, `{"value":1,"samples":[{"value":1,"x":1}]}`, `unknown field "x"`},
		{domain.EventTemperature, `{"value":1,"updateTime":"1999-12-31T23:59:59Z"}`, "after 2000"},
		{domain.EventTemperature, `{"value":1,"updateTime":"2026-05-31T10:34:04Z"}`, "a day ahead"},
		{domain.EventTemperature, `{"value":1}{}`, "JSON object"},
		{domain.EventObjectPresent, `{"state":"present"}`, "one of PRESENT, NOT_PRESENT"},
		{domain.EventTouchCount, `{"total":1.5}`, "whole number"},
		{domain.EventTouchCount, `{"total":-1}`, "between"},
		{domain.EventNetworkStatus, `{"signalStrength":50,"transmissionMode":"TURBO"}`, "one of"},
		{domain.EventNetworkStatus, `{"signalStrength":50,"cloud_connectors":[{"signalStrength":1}]}`, "id is required"},
		{domain.EventConnectionStatus, `{"connection":"ETHERNET","available":["WIFI"]}`, "ETHERNET or CELLULAR"},
		{domain.EventLabelsChanged, `{}`, "cannot be published"},
		{domain.EventPing, `{}`, "cannot be published"},
		{domain.EventTouch, `[]`, "JSON object"},
		{domain.EventTouch, `{"updateTime":"2026-05-29 10:00"}`, "RFC 3339"},
		{domain.EventTouch, `{"updateTime":"` + strings.Repeat("x", domain.MaxEventBody) + `"}`, "larger than"},
	}
	for _, r := range refusals {
		_, err := domain.ParseEventBody(r.et, json.RawMessage(r.in), now)
		if domain.ErrorCode(err) != domain.EINVALID || !strings.Contains(domain.ErrorMessage(err), r.says) {
			t.Errorf("%s %.60s: %v, want invalid saying %q", r.et, r.in, err, r.says)
		}
	}
}

// TestDeviceTypesEmit: every type reports networkStatus-like status and
// its own values, never labelsChanged; ccon keeps connectionLatency null.
func TestDeviceTypesEmit(t *testing.T) {
	for _, info := range domain.DeviceTypes() {
		if info.Emits(domain.EventLabelsChanged) || info.Emits(domain.EventConnectionLatency) || info.Emits(domain.EventPing) {
			t.Errorf("%s emits a type it must not", info.Type)
		}
		if !info.Emits(info.Main) || !info.Emits(domain.EventTouch) {
			t.Errorf("%s does not emit its main type %s or touch", info.Type, info.Main)
		}
		d := domain.Device{Type: info.Type}
		var rep map[string]json.RawMessage
		if err := json.Unmarshal(d.ReportedJSON(), &rep); err != nil || len(rep) != len(info.Reported) {
			t.Errorf("%s reported %s", info.Type, d.ReportedJSON())
		}
	}
	d := domain.Device{Type: domain.DeviceCloudConnector, Reported: domain.Reported{"touch": json.RawMessage(`{"updateTime":"x"}`)}}
	if got := string(d.ReportedJSON()); got != `{"connectionStatus":null,"ethernetStatus":null,"cellularStatus":null,"touch":{"updateTime":"x"},"connectionLatency":null}` {
		t.Errorf("ccon reported %s", got)
	}
}

func TestParseOrderBy(t *testing.T) {
	good := map[string]domain.DeviceOrder{
		"":                             {},
		"name":                         {},
		"-name":                        {Desc: true},
		"type":                         {Kind: domain.OrderByField, Field: "type"},
		"-productNumber":               {Kind: domain.OrderByField, Field: "productNumber", Desc: true},
		"labels.room":                  {Kind: domain.OrderByField, Field: "labels.room"},
		`labels.odd "key".x`:           {Kind: domain.OrderByField, Field: `labels.odd "key".x`},
		"reported.temperature.value":   {Kind: domain.OrderByField, Field: "reported.temperature.value"},
		"-reported.networkStatus.rssi": {Kind: domain.OrderByField, Field: "reported.networkStatus.rssi", Desc: true},
	}
	for in, want := range good {
		got, err := domain.ParseOrderBy(in)
		if err != nil || got != want {
			t.Errorf("ParseOrderBy(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, bad := range []string{"-", "colour", "labels.", "labels. padded", "reported.temperature", "reported.weather.value",
		"reported.temperature.va-lue", "reported.temperature..value", "labels.a=b"} {
		if _, err := domain.ParseOrderBy(bad); domain.ErrorCode(err) != domain.EINVALID {
			t.Errorf("ParseOrderBy(%q) = %v, want invalid", bad, err)
		}
	}
	d := domain.Device{Type: domain.DeviceTemperature, Labels: map[string]string{"room": "b"},
		Reported: domain.Reported{"temperature": json.RawMessage(`{"value":21.5,"isBackfilled":true}`)}}
	for field, want := range map[string]any{"reported.temperature.value": 21.5, "reported.temperature.isBackfilled": 1.0,
		"reported.touch.updateTime": nil, "labels.room": "b", "labels.floor": nil, "type": "temperature", "reported.temperature.value.x": nil} {
		o, err := domain.ParseOrderBy(field)
		if err != nil {
			t.Fatal(err)
		}
		if got := o.SortValue(d); got != want {
			t.Errorf("SortValue %s = %#v, want %#v", field, got, want)
		}
	}
}

// TestLocalHub: a stream gets the events its filter takes, in order; a
// full one is dropped and counted, and the publisher never waits.
func TestLocalHub(t *testing.T) {
	hub := domain.NewLocalHub()
	ev := func(project, device string, t domain.EventType, labels map[string]string) domain.Event {
		return domain.Event{ID: device + string(t), ProjectID: project, DeviceID: device, Type: t, DeviceType: domain.DeviceTemperature, Labels: labels}
	}
	all := hub.Subscribe(domain.StreamFilter{ProjectID: "p"}, 10)
	cold := hub.Subscribe(domain.StreamFilter{ProjectID: "p", Devices: domain.DeviceFilter{Labels: []domain.LabelFilter{{Key: "room", Value: "cold"}}},
		EventTypes: []domain.EventType{domain.EventTemperature}}, 10)
	slow := hub.Subscribe(domain.StreamFilter{ProjectID: "p"}, 1)
	hub.Publish([]domain.Event{
		ev("p", "a", domain.EventTemperature, map[string]string{"room": "cold"}),
		ev("q", "b", domain.EventTemperature, map[string]string{"room": "cold"}),
		ev("p", "c", domain.EventTouch, map[string]string{"room": "cold"}),
		ev("p", "d", domain.EventTemperature, map[string]string{"room": "warm"}),
	})
	var got []string
	for len(all.Events()) > 0 {
		got = append(got, (<-all.Events()).ID)
	}
	if strings.Join(got, ",") != "atemperature,ctouch,dtemperature" {
		t.Errorf("the project's stream got %v", got)
	}
	if len(cold.Events()) != 1 || (<-cold.Events()).DeviceID != "a" {
		t.Error("the filtered stream did not get device a's temperature alone")
	}
	select {
	case <-slow.Lagged():
	default:
		t.Fatal("the stream with a buffer of 1 was not dropped after 3 events")
	}
	if st := hub.Stats(); st.Dropped != 1 || st.Subscriptions != 2 {
		t.Errorf("stats %+v, want 1 dropped, 2 left", st)
	}
	all.Close()
	cold.Close()
	all.Close() // twice is fine
	if st := hub.Stats(); st.Subscriptions != 0 {
		t.Errorf("%d subscriptions after closing all", st.Subscriptions)
	}
}

func TestReadings(t *testing.T) {
	d := domain.Device{Type: domain.DeviceHumidity, Reported: domain.Reported{
		"humidity":      json.RawMessage(`{"temperature":21.5,"relativeHumidity":40,"updateTime":"2026-05-29T10:00:00.000000Z"}`),
		"batteryStatus": json.RawMessage(`{"percentage":15,"updateTime":"2026-05-29T10:00:00.000000Z"}`),
		"networkStatus": json.RawMessage(`{"signalStrength":70,"updateTime":"2026-05-29T10:00:00.000000Z"}`),
	}}
	r := d.Readings()
	if r.Temperature == nil || *r.Temperature != 21.5 || *r.RelativeHumidity != 40 || *r.Battery != 15 || *r.Signal != 70 || r.Updated.IsZero() {
		t.Fatalf("readings %+v", r)
	}
	if (domain.Device{Type: domain.DeviceTouch}).Readings() != (domain.Readings{}) {
		t.Fatal("a device without events has readings")
	}
}
