package domain

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
)

// The emulator: devices made by people and programs to try things out,
// whose events they publish themselves. Emulated devices are devices
// like any other (they are listed, labelled, moved and streamed), with
// an id of "emu" and 20 characters and the system label virtual-sensor.

// EmulatedInput is an emulated device as a request describes it.
type EmulatedInput struct {
	Type   DeviceType
	Labels map[string]string
}

func checkEmulatedInput(in EmulatedInput) (DeviceTypeInfo, map[string]string, error) {
	info, ok := LookupDeviceType(in.Type)
	if !ok {
		return info, nil, FieldError("type", "Choose a device type: temperature, humidity, proximity, touch, proximityCounter, touchCounter, waterDetector, co2, motion, deskOccupancy, contact or ccon.")
	}
	with := maps.Clone(in.Labels)
	if with == nil {
		with = map[string]string{}
	}
	with[VirtualSensorLabel] = ""
	labels, err := CheckLabels("labels", with)
	return info, labels, err
}

// CreateEmulated makes an emulated device in a project.
func (s *Devices) CreateEmulated(ctx context.Context, p Principal, projectID string, in EmulatedInput) (Device, error) {
	if _, err := authorizeProject(ctx, s.store, p, projectID, OpEmulatorCreate); err != nil {
		return Device{}, err
	}
	_, labels, err := checkEmulatedInput(in)
	if err != nil {
		return Device{}, err
	}
	now := s.now()
	d := Device{ID: NewEmulatedDeviceID(now), ProjectID: projectID, Type: in.Type, Labels: labels, Reported: Reported{},
		Emulated: true, CreateTime: now}
	err = s.store.Update(ctx, func(tx Tx) error {
		a, err := authorizeProject(ctx, tx, p, projectID, OpEmulatorCreate)
		if err != nil {
			return err
		}
		if err := tx.CreateDevice(ctx, d); err != nil {
			return err
		}
		e := auditEntry(p, now, ActionEmulatorCreate, "device", d.ID, d.DisplayName())
		e.OrganizationID, e.ProjectID, e.Detail = a.Project.OrganizationID, projectID, string(d.Type)
		return tx.AddAudit(ctx, e)
	})
	return d, err
}

// ListEmulated lists a project's emulated devices, by id.
func (s *Devices) ListEmulated(ctx context.Context, p Principal, projectID string, req PageRequest) (Page[Device], error) {
	if projectID == "-" {
		return Page[Device]{}, ErrNotFound("Project")
	}
	return s.list(ctx, p, projectID, DeviceQuery{}, req, true)
}

// ListEmulatedByName lists a project's emulated devices by name, for the console.
func (s *Devices) ListEmulatedByName(ctx context.Context, p Principal, projectID string, req PageRequest) (Page[Device], error) {
	return s.list(ctx, p, projectID, DeviceQuery{ByDisplayName: true}, req, true)
}

// emulated reads an emulated device of a project after authorizing op;
// a device that is not emulated is not found here.
func (s *Devices) emulated(ctx context.Context, r DevicesReader, p Principal, projectID, deviceID string, op Operation) (Access, Device, error) {
	a, err := authorizeProject(ctx, r, p, projectID, op)
	if err != nil {
		return a, Device{}, err
	}
	d, err := deviceIn(ctx, r, DeviceRef{ProjectID: projectID, DeviceID: deviceID}, projectID)
	if err != nil {
		return a, Device{}, err
	}
	if !d.Emulated {
		return a, Device{}, ErrNotFound("Emulated device")
	}
	return a, d, nil
}

// DevicesReader is what reading a project's devices needs.
type DevicesReader interface {
	AccessReader
	DeviceReader
}

// GetEmulated returns an emulated device of a project.
func (s *Devices) GetEmulated(ctx context.Context, p Principal, projectID, deviceID string) (Device, error) {
	_, d, err := s.emulated(ctx, s.store, p, projectID, deviceID, OpEmulatorRead)
	return d, err
}

// DeleteEmulated deletes an emulated device with its events.
func (s *Devices) DeleteEmulated(ctx context.Context, p Principal, projectID, deviceID string) error {
	if _, _, err := s.emulated(ctx, s.store, p, projectID, deviceID, OpEmulatorDelete); err != nil {
		return err
	}
	now := s.now()
	return s.store.Update(ctx, func(tx Tx) error {
		a, d, err := s.emulated(ctx, tx, p, projectID, deviceID, OpEmulatorDelete)
		if err != nil {
			return err
		}
		if err := tx.DeleteDevice(ctx, d); err != nil {
			return err
		}
		e := auditEntry(p, now, ActionEmulatorDelete, "device", d.ID, d.DisplayName())
		e.OrganizationID, e.ProjectID, e.Detail = a.Project.OrganizationID, projectID, string(d.Type)
		return tx.AddAudit(ctx, e)
	})
}

// ReplaceEmulated sets an emulated device's labels (Terraform's PUT). Its
// type cannot change; the virtual-sensor label stays.
func (s *Devices) ReplaceEmulated(ctx context.Context, p Principal, projectID, deviceID string, in EmulatedInput) (Device, error) {
	if _, _, err := s.emulated(ctx, s.store, p, projectID, deviceID, OpEmulatorUpdate); err != nil {
		return Device{}, err
	}
	_, labels, err := checkEmulatedInput(in)
	if err != nil {
		return Device{}, err
	}
	now := s.now()
	var d Device
	var events []Event
	err = s.store.Update(ctx, func(tx Tx) error {
		events = nil
		if _, d, err = s.emulated(ctx, tx, p, projectID, deviceID, OpEmulatorUpdate); err != nil {
			return err
		}
		if d.Type != in.Type {
			return FieldError("type", "An emulated device's type cannot change: make a new device of the other type.")
		}
		ev, changed, err := s.setLabels(ctx, tx, p, now, &d, labels)
		if err != nil || !changed {
			return err
		}
		events = []Event{ev}
		return s.log.Record(ctx, tx, events, map[string]*Device{d.ID: &d})
	})
	if err != nil {
		return Device{}, err
	}
	s.log.Deliver(events)
	return d, nil
}

// PublishEmulated publishes an event of an emulated device: body is
// {"<eventType>": body}, of a type the device emits (never
// labelsChanged), completed as ParseEventBody says. It returns once the
// event is stored; it then updates the device's reported, is in its
// history and goes to every matching stream.
func (s *Devices) PublishEmulated(ctx context.Context, p Principal, projectID, deviceID string, body json.RawMessage) (Event, error) {
	_, d, err := s.emulated(ctx, s.store, p, projectID, deviceID, OpEmulatorUpdate)
	if err != nil {
		return Event{}, err
	}
	et, raw, err := splitPublished(body)
	if err != nil {
		return Event{}, err
	}
	return s.publish(ctx, d, et, raw)
}

// splitPublished reads {"<eventType>": body}: exactly one key.
func splitPublished(body json.RawMessage) (EventType, json.RawMessage, error) {
	var m map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&m); err != nil || dec.More() {
		return "", nil, Errorf(EINVALID, "Publish takes a JSON object with one key, the event type, holding the event's body.")
	}
	if len(m) != 1 {
		return "", nil, Errorf(EINVALID, "Publish takes exactly one event type, such as {\"temperature\": {\"value\": 21.5}}.")
	}
	for k, v := range m {
		return EventType(k), v, nil
	}
	return "", nil, nil
}

// publish checks and stores an event of d (the caller authorized it).
func (s *Devices) publish(ctx context.Context, d Device, et EventType, raw json.RawMessage) (Event, error) {
	if et == EventLabelsChanged {
		return Event{}, Errorf(EINVALID, "labelsChanged cannot be published: change the device's labels (devices:batchUpdate) instead.")
	}
	info, _ := LookupDeviceType(d.Type)
	if !info.Emits(et) {
		return Event{}, Errorf(EINVALID, "A %s device does not publish %q events.", d.Type, et)
	}
	now := s.now()
	b, err := ParseEventBody(et, raw, now)
	if err != nil {
		return Event{}, err
	}
	e := Event{ID: NewID(now), DeviceID: d.ID, ProjectID: d.ProjectID, Type: et, Time: b.Time, Body: b.JSON,
		Value: b.Value, HasValue: b.HasValue, DeviceType: d.Type, ProductNumber: d.ProductNumber, Labels: d.Labels}
	if err := s.log.Publish(ctx, e); err != nil {
		return Event{}, err
	}
	return e, nil
}
