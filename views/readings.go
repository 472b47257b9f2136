package views

import (
	"encoding/json"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"studio/domain"
)

// How device values read in the console.

// fmtNum writes a number without trailing zeros, one decimal at most.
func fmtNum(v float64) string {
	r := math.Round(v*10) / 10
	if r == 0 {
		r = 0 // no "-0"
	}
	return strconv.FormatFloat(r, 'f', -1, 64)
}

// stateWords are the people's words of each event state.
var stateWords = map[string]string{
	"PRESENT": "Present", "NOT_PRESENT": "Not present",
	"OPEN": "Open", "CLOSED": "Closed",
	"MOTION_DETECTED": "Motion", "NO_MOTION_DETECTED": "No motion",
	"OCCUPIED": "Occupied", "NOT_OCCUPIED": "Not occupied",
	"ETHERNET": "Ethernet", "CELLULAR": "Cellular", "OFFLINE": "Offline", "SDS": "SDS",
}

func stateWord(state string) string {
	if w, ok := stateWords[state]; ok {
		return w
	}
	return strings.ToLower(strings.ReplaceAll(state, "_", " "))
}

// waterWord: a water detector's PRESENT is water, not presence.
func waterWord(state string) string {
	if state == "PRESENT" {
		return "Water"
	}
	return "Dry"
}

// mainValue is the device's main value with its unit, "—" before the first.
func mainValue(d domain.Device, now time.Time) string { return mainValueOf(d, d.Readings(), now) }

// cells are a device row's changing cells, its readings read once.
type cells struct {
	Value, Signal, Battery string
	Low                    bool
}

func cellsOf(d domain.Device, now time.Time) cells {
	r := d.Readings()
	return cells{Value: mainValueOf(d, r, now), Signal: percentText(r.Signal), Battery: percentText(r.Battery),
		Low: r.Battery != nil && *r.Battery < domain.LowBatteryPercent}
}

func mainValueOf(d domain.Device, r domain.Readings, now time.Time) string {
	switch d.Type {
	case domain.DeviceTemperature:
		if r.Temperature != nil {
			return fmtNum(*r.Temperature) + " °C"
		}
	case domain.DeviceHumidity:
		if r.RelativeHumidity != nil {
			return fmtNum(*r.RelativeHumidity) + " % · " + fmtNum(*r.Temperature) + " °C"
		}
	case domain.DeviceCO2:
		if r.PPM != nil {
			return fmtNum(*r.PPM) + " ppm"
		}
	case domain.DeviceProximityCounter:
		if r.Total != nil {
			return strconv.FormatInt(*r.Total, 10) + " objects"
		}
	case domain.DeviceTouchCounter:
		if r.Total != nil {
			return strconv.FormatInt(*r.Total, 10) + " touches"
		}
	case domain.DeviceWaterDetector:
		if r.State != "" {
			return waterWord(r.State)
		}
	case domain.DeviceTouch:
		if !r.Touched.IsZero() {
			return "Touched " + ago(r.Touched, now)
		}
	case domain.DeviceCloudConnector:
		if r.Connection != "" {
			return stateWord(r.Connection)
		}
	default:
		if r.State != "" {
			return stateWord(r.State)
		}
	}
	return "—"
}

func percentText(v *int64) string {
	if v == nil {
		return "—"
	}
	return strconv.FormatInt(*v, 10) + " %"
}

// ago says how long ago t was: "just now", "5 min ago", "3 h ago", "2 days ago".
func ago(t, now time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := now.Sub(t)
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return strconv.Itoa(int(d/time.Minute)) + " min ago"
	case d < 48*time.Hour:
		return strconv.Itoa(int(d/time.Hour)) + " h ago"
	}
	return strconv.Itoa(int(d/(24*time.Hour))) + " days ago"
}

// eventTypeName is an event type as people read it.
func eventTypeName(et domain.EventType) string {
	names := map[domain.EventType]string{
		domain.EventTouch: "Touch", domain.EventTemperature: "Temperature", domain.EventObjectPresent: "Proximity",
		domain.EventHumidity: "Humidity", domain.EventObjectPresentCount: "Proximity count", domain.EventTouchCount: "Touch count",
		domain.EventWaterPresent: "Water", domain.EventCO2: "CO2", domain.EventPressure: "Pressure", domain.EventMotion: "Motion",
		domain.EventDeskOccupancy: "Desk occupancy", domain.EventContact: "Contact", domain.EventNetworkStatus: "Network status",
		domain.EventBatteryStatus: "Battery", domain.EventLabelsChanged: "Labels changed", domain.EventConnectionStatus: "Connection",
		domain.EventEthernetStatus: "Ethernet", domain.EventCellularStatus: "Cellular", domain.EventConnectionLatency: "Latency",
		domain.EventProbeWireStatus: "Probe wires",
	}
	if n, ok := names[et]; ok {
		return n
	}
	return string(et)
}

// bodyText says what an event body holds, for the history and the latest values.
func bodyText(et domain.EventType, body json.RawMessage) string {
	var b struct {
		Value            *float64 `json:"value"`
		Temperature      *float64 `json:"temperature"`
		RelativeHumidity *float64 `json:"relativeHumidity"`
		PPM              *float64 `json:"ppm"`
		Pascal           *float64 `json:"pascal"`
		State            string   `json:"state"`
		Total            *int64   `json:"total"`
		SignalStrength   *int64   `json:"signalStrength"`
		Percentage       *int64   `json:"percentage"`
		Connection       string   `json:"connection"`
		IPAddress        string   `json:"ipAddress"`
		Added            map[string]string
		Modified         map[string]string
		Removed          []string
	}
	if json.Unmarshal(body, &b) != nil {
		return ""
	}
	switch et {
	case domain.EventTemperature:
		if b.Value != nil {
			return fmtNum(*b.Value) + " °C"
		}
	case domain.EventHumidity:
		if b.RelativeHumidity != nil && b.Temperature != nil {
			return fmtNum(*b.RelativeHumidity) + " % at " + fmtNum(*b.Temperature) + " °C"
		}
	case domain.EventCO2:
		if b.PPM != nil {
			return fmtNum(*b.PPM) + " ppm"
		}
	case domain.EventPressure:
		if b.Pascal != nil {
			return fmtNum(*b.Pascal/100) + " hPa"
		}
	case domain.EventWaterPresent:
		return waterWord(b.State)
	case domain.EventObjectPresent, domain.EventMotion, domain.EventDeskOccupancy, domain.EventContact, domain.EventProbeWireStatus:
		return stateWord(b.State)
	case domain.EventObjectPresentCount, domain.EventTouchCount:
		if b.Total != nil {
			return "total " + strconv.FormatInt(*b.Total, 10)
		}
	case domain.EventNetworkStatus, domain.EventCellularStatus:
		return "signal " + percentText(b.SignalStrength)
	case domain.EventBatteryStatus:
		return percentText(b.Percentage)
	case domain.EventConnectionStatus:
		return stateWord(b.Connection)
	case domain.EventEthernetStatus:
		return b.IPAddress
	case domain.EventTouch:
		return "touched"
	case domain.EventLabelsChanged:
		var parts []string
		for k, v := range b.Added {
			parts = append(parts, "+"+LabelText(k, v))
		}
		for k, v := range b.Modified {
			parts = append(parts, "~"+LabelText(k, v))
		}
		for _, k := range b.Removed {
			parts = append(parts, "−"+k)
		}
		sort.Strings(parts)
		return strings.Join(parts, ", ")
	}
	return ""
}

// ReportedRow is one reported value of a device.
type ReportedRow struct {
	Type    domain.EventType
	Text    string
	Updated time.Time
}

// reportedRows lists a device's latest bodies in its type's order.
func reportedRows(d domain.Device) []ReportedRow {
	info, _ := domain.LookupDeviceType(d.Type)
	var out []ReportedRow
	for _, et := range info.Reported {
		body, ok := d.Reported[et]
		if !ok {
			continue
		}
		var u struct {
			UpdateTime string `json:"updateTime"`
		}
		_ = json.Unmarshal(body, &u)
		t, _ := time.Parse(time.RFC3339Nano, u.UpdateTime)
		out = append(out, ReportedRow{Type: et, Text: bodyText(et, body), Updated: t})
	}
	return out
}

func deviceTypeName(t domain.DeviceType) string { return domain.DeviceTypeName(t) }

func devicesURL(projectID string) string { return projectURL(projectID) + "/devices" }
func deviceURL(projectID, deviceID string) string {
	return devicesURL(projectID) + "/" + deviceID
}
func emulatorURL(projectID string) string { return projectURL(projectID) + "/emulator" }
func emulatedURL(projectID, deviceID string) string {
	return emulatorURL(projectID) + "/" + deviceID
}

// sortedKeys lists a map's keys, name first, then in order.
func sortedKeys(labels map[string]string) []string {
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if (keys[i] == "name") != (keys[j] == "name") {
			return keys[i] == "name"
		}
		return keys[i] < keys[j]
	})
	return keys
}

// lastNumber is a number field of the device's latest body of et, or fallback.
func lastNumber(d domain.Device, et domain.EventType, field, fallback string) string {
	var m map[string]json.RawMessage
	if json.Unmarshal(d.Reported[et], &m) != nil {
		return fallback
	}
	var v float64
	if json.Unmarshal(m[field], &v) != nil {
		return fallback
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// EventSummary says an event in a few words: "temperature 21.5 °C".
func EventSummary(e domain.Event) string {
	name := strings.ToLower(eventTypeName(e.Type))
	if text := bodyText(e.Type, e.Body); text != "" && e.Type != domain.EventTouch {
		return name + " " + text
	}
	return name
}
