package domain

import (
	"encoding/json"
	"time"
)

// Readings are the latest values a device reported, read from its
// reported bodies for people: nil (or "") where it reported none.
type Readings struct {
	Temperature      *float64 // °C: a temperature sensor's, or a humidity sensor's
	RelativeHumidity *float64 // %
	PPM              *float64 // CO2
	Pascal           *float64
	// State is the main state event's state (PRESENT, OPEN, OCCUPIED, …).
	State string
	Total *int64 // counters
	// Signal is the network's signal strength (a cloud connector's cellular), 0–100.
	Signal  *int64
	Battery *int64 // %
	// Connection is a cloud connector's connection (ETHERNET, CELLULAR, OFFLINE).
	Connection string
	// Touched is the time of the last touch (zero: never).
	Touched time.Time
	// Updated is the time of the main value (zero: never reported).
	Updated time.Time
}

// Readings reads the device's latest values.
func (d Device) Readings() Readings {
	var r Readings
	info, _ := LookupDeviceType(d.Type)
	var b reportedFields
	read := func(et EventType) bool {
		b = reportedFields{}
		raw, ok := d.Reported[et]
		return ok && json.Unmarshal(raw, &b) == nil
	}
	if read(EventTemperature) {
		r.Temperature = b.Value
	}
	if read(EventHumidity) {
		r.Temperature, r.RelativeHumidity = b.Temperature, b.RelativeHumidity
	}
	if read(EventCO2) {
		r.PPM = b.PPM
	}
	if read(EventPressure) {
		r.Pascal = b.Pascal
	}
	if read(EventObjectPresentCount) || read(EventTouchCount) {
		r.Total = b.Total
	}
	for _, et := range []EventType{EventObjectPresent, EventWaterPresent, EventMotion, EventDeskOccupancy, EventContact} {
		if info.Emits(et) && read(et) {
			r.State = b.State
		}
	}
	if read(EventNetworkStatus) {
		r.Signal = b.SignalStrength
	}
	if read(EventCellularStatus) {
		r.Signal = b.SignalStrength
	}
	if read(EventBatteryStatus) {
		r.Battery = b.Percentage
	}
	if read(EventConnectionStatus) {
		r.Connection = b.Connection
	}
	if read(EventTouch) {
		r.Touched, _ = time.Parse(time.RFC3339Nano, b.UpdateTime)
	}
	if read(info.Main) {
		r.Updated, _ = time.Parse(time.RFC3339Nano, b.UpdateTime)
	}
	return r
}

// reportedFields are the fields of the reported bodies that readings use.
type reportedFields struct {
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
	UpdateTime       string   `json:"updateTime"`
}
