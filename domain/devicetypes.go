package domain

// DeviceType is a kind of sensor or cloud connector, as the API names it.
type DeviceType string

// The device types of the contract (api-v2-devices.md §1).
const (
	DeviceTemperature      DeviceType = "temperature"
	DeviceProximity        DeviceType = "proximity"
	DeviceTouch            DeviceType = "touch"
	DeviceHumidity         DeviceType = "humidity"
	DeviceProximityCounter DeviceType = "proximityCounter"
	DeviceTouchCounter     DeviceType = "touchCounter"
	DeviceWaterDetector    DeviceType = "waterDetector"
	DeviceCO2              DeviceType = "co2"
	DeviceMotion           DeviceType = "motion"
	DeviceDeskOccupancy    DeviceType = "deskOccupancy"
	DeviceContact          DeviceType = "contact"
	DeviceCloudConnector   DeviceType = "ccon"
)

// EventType names an event and the key of its body in a device's reported.
type EventType string

// The event types of the contract.
const (
	EventTouch              EventType = "touch"
	EventTemperature        EventType = "temperature"
	EventObjectPresent      EventType = "objectPresent"
	EventHumidity           EventType = "humidity"
	EventObjectPresentCount EventType = "objectPresentCount"
	EventTouchCount         EventType = "touchCount"
	EventWaterPresent       EventType = "waterPresent"
	EventCO2                EventType = "co2"
	EventPressure           EventType = "pressure"
	EventMotion             EventType = "motion"
	EventDeskOccupancy      EventType = "deskOccupancy"
	EventContact            EventType = "contact"
	EventProbeWireStatus    EventType = "probeWireStatus"
	EventNetworkStatus      EventType = "networkStatus"
	EventBatteryStatus      EventType = "batteryStatus"
	EventLabelsChanged      EventType = "labelsChanged"
	EventConnectionStatus   EventType = "connectionStatus"
	EventEthernetStatus     EventType = "ethernetStatus"
	EventCellularStatus     EventType = "cellularStatus"
	// EventConnectionLatency was retired by the original: a cloud
	// connector's reported keeps the key, always null; it is never emitted.
	EventConnectionLatency EventType = "connectionLatency"
	// EventPing is the stream's keep-alive, never stored.
	EventPing EventType = "ping"
)

// EventTypes lists every event type a device can emit or a filter can name.
var EventTypes = []EventType{
	EventTouch, EventTemperature, EventObjectPresent, EventHumidity, EventObjectPresentCount,
	EventTouchCount, EventWaterPresent, EventCO2, EventPressure, EventMotion, EventDeskOccupancy,
	EventContact, EventProbeWireStatus, EventNetworkStatus, EventBatteryStatus, EventLabelsChanged,
	EventConnectionStatus, EventEthernetStatus, EventCellularStatus,
}

// KnownEventType reports whether t is an event type of the contract.
func KnownEventType(t EventType) bool {
	for _, k := range EventTypes {
		if k == t {
			return true
		}
	}
	return false
}

// DeviceTypeInfo describes a device type.
type DeviceTypeInfo struct {
	Type        DeviceType
	DisplayName string
	// CloudConnector counts the device in a project's cloudConnectorCount
	// (else in its sensorCount).
	CloudConnector bool
	// Reported are the keys of the device's reported, in order: one per
	// event type it emits (and the retired connectionLatency of ccon).
	Reported []EventType
	// Main is the event type of the value the console shows and charts.
	Main EventType
}

var sensorStatus = []EventType{EventNetworkStatus, EventBatteryStatus, EventTouch}

func sensor(t DeviceType, name string, main ...EventType) DeviceTypeInfo {
	info := DeviceTypeInfo{Type: t, DisplayName: name, Reported: append(append([]EventType{}, sensorStatus...), main...), Main: EventTouch}
	if len(main) > 0 {
		info.Main = main[0]
	}
	return info
}

// The key sets of co2, motion, deskOccupancy and contact sensors are not
// confirmed by the original's clients; these follow the products' data sheets.
var deviceTypes = []DeviceTypeInfo{
	sensor(DeviceTemperature, "Temperature", EventTemperature),
	sensor(DeviceHumidity, "Humidity", EventHumidity),
	sensor(DeviceProximity, "Proximity", EventObjectPresent),
	sensor(DeviceTouch, "Touch"),
	sensor(DeviceProximityCounter, "Proximity counter", EventObjectPresentCount),
	sensor(DeviceTouchCounter, "Touch counter", EventTouchCount),
	sensor(DeviceWaterDetector, "Water detector", EventWaterPresent),
	sensor(DeviceCO2, "CO2", EventCO2, EventPressure, EventHumidity),
	sensor(DeviceMotion, "Motion", EventMotion),
	sensor(DeviceDeskOccupancy, "Desk occupancy", EventDeskOccupancy),
	sensor(DeviceContact, "Door & window contact", EventContact),
	{Type: DeviceCloudConnector, DisplayName: "Cloud Connector", CloudConnector: true,
		Reported: []EventType{EventConnectionStatus, EventEthernetStatus, EventCellularStatus, EventTouch, EventConnectionLatency},
		Main:     EventConnectionStatus},
}

// DeviceTypes lists every device type, sensors first.
func DeviceTypes() []DeviceTypeInfo { return deviceTypes }

// LookupDeviceType returns what a device type is.
func LookupDeviceType(t DeviceType) (DeviceTypeInfo, bool) {
	for _, info := range deviceTypes {
		if info.Type == t {
			return info, true
		}
	}
	return DeviceTypeInfo{}, false
}

// Emits reports whether devices of this type publish events of type et.
func (info DeviceTypeInfo) Emits(et EventType) bool {
	if et == EventConnectionLatency {
		return false
	}
	for _, r := range info.Reported {
		if r == et {
			return true
		}
	}
	return false
}

// DeviceTypeName is a device type as people read it.
func DeviceTypeName(t DeviceType) string {
	if info, ok := LookupDeviceType(t); ok {
		return info.DisplayName
	}
	return string(t)
}
