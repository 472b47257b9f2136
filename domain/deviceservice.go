package domain

import (
	"context"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Devices manages a project's devices: lists and lookups, labels, moves
// between projects, event history, charts, event streams and emulated
// devices (emulator.go).
type Devices struct {
	store DevicesStore
	log   *EventLog
	now   func() time.Time
}

// DevicesStore is the part of the store Devices uses.
type DevicesStore interface {
	AccessReader
	OrganizationReader
	ProjectReader
	DeviceReader
	EventReader
	Updater
}

// NewDevices returns the devices service; events are written through log.
func NewDevices(store DevicesStore, log *EventLog, now func() time.Time) *Devices {
	return &Devices{store: store, log: log, now: now}
}

// DeviceRef names a device in a project, as a request gave it.
type DeviceRef struct {
	ProjectID string
	DeviceID  string
}

// ItemError is the refusal of one item of a batch (the batch goes on):
// ENOTFOUND or EINVALID, with its message.
type ItemError struct {
	Index int
	Err   *Error
}

// MaxBatchDevices bounds the devices of one batch request.
const MaxBatchDevices = 1000

// Authorize returns what the principal holds in a project when it allows op.
func (s *Devices) Authorize(ctx context.Context, p Principal, projectID string, op Operation) (Access, error) {
	return authorizeProject(ctx, s.store, p, projectID, op)
}

// List lists the devices of a project, or with projectID "-" of the
// projects of q.OrganizationID (required) that the principal may read.
func (s *Devices) List(ctx context.Context, p Principal, projectID string, q DeviceQuery, req PageRequest) (Page[Device], error) {
	return s.list(ctx, p, projectID, q, req, false)
}

func (s *Devices) list(ctx context.Context, p Principal, projectID string, q DeviceQuery, req PageRequest, emulatedOnly bool) (Page[Device], error) {
	if projectID == "-" {
		return s.listAcross(ctx, p, q, req)
	}
	op := OpDeviceRead
	if emulatedOnly {
		op = OpEmulatorRead
	}
	if _, err := authorizeProject(ctx, s.store, p, projectID, op); err != nil {
		return Page[Device]{}, err
	}
	f, err := q.filter()
	if err != nil {
		return Page[Device]{}, err
	}
	f.ProjectID, f.EmulatedOnly = projectID, emulatedOnly
	return s.page(ctx, f, req)
}

// listAcross lists the devices of every project of an organization the
// principal may read.
func (s *Devices) listAcross(ctx context.Context, p Principal, q DeviceQuery, req PageRequest) (Page[Device], error) {
	if q.OrganizationID == "" {
		return Page[Device]{}, FieldError("organization", "Listing the devices of project - needs organization=organizations/{id}.")
	}
	f, err := q.filter()
	if err != nil {
		return Page[Device]{}, err
	}
	if !ValidID(q.OrganizationID) {
		return Page[Device]{}, ErrNotFound("Organization")
	}
	for _, id := range q.ProjectIDs {
		if !ValidID(id) {
			return Page[Device]{}, FieldError("projects", "projects takes projects/{id}.")
		}
	}
	v, err := orgView(ctx, s.store, p, q.OrganizationID)
	if err != nil {
		return Page[Device]{}, err
	}
	f.OrganizationID, f.ProjectIDs = q.OrganizationID, q.ProjectIDs
	if !v.IsAdmin {
		// Every project role grants device.read: a member reads the
		// devices of each project it holds a role in.
		f.Account = p.Account
	}
	return s.page(ctx, f, req)
}

func (s *Devices) page(ctx context.Context, f DeviceFilter, req PageRequest) (Page[Device], error) {
	listing := f.listing()
	size, after, err := normalizePage(req, listing)
	if err != nil {
		return Page[Device]{}, err
	}
	if !after.IsZero() {
		if _, err := f.Order.CursorValue(after); err != nil {
			return Page[Device]{}, err
		}
	}
	items, err := s.store.ListDevices(ctx, f, after, size+1)
	if err != nil {
		return Page[Device]{}, err
	}
	return pageOf(items, size, listing, f.Order.cursor), nil
}

// Get returns a device of a project; with projectID "-", a device of any
// project the principal may read. A device elsewhere is not found.
func (s *Devices) Get(ctx context.Context, p Principal, projectID, deviceID string) (Device, error) {
	if projectID != "-" {
		if _, err := authorizeProject(ctx, s.store, p, projectID, OpDeviceRead); err != nil {
			return Device{}, err
		}
	}
	if !ValidDeviceID(deviceID) {
		return Device{}, ErrNotFound("Device")
	}
	d, err := s.store.DeviceByID(ctx, deviceID)
	if err != nil {
		return Device{}, err
	}
	if projectID == "-" {
		if _, err := authorizeProject(ctx, s.store, p, d.ProjectID, OpDeviceRead); err != nil {
			return Device{}, ErrNotFound("Device")
		}
	} else if d.ProjectID != projectID {
		return Device{}, ErrNotFound("Device")
	}
	return d, nil
}

// UpdateLabels adds (or changes) and removes labels of devices of one
// project. A device not in the project is a not-found item; one that
// would hold too many labels an invalid item. Each device whose labels
// change gets an audit entry and a labelsChanged event.
func (s *Devices) UpdateLabels(ctx context.Context, p Principal, projectID string, refs []DeviceRef, add map[string]string, remove []string) ([]ItemError, error) {
	if _, err := authorizeProject(ctx, s.store, p, projectID, OpDeviceUpdate); err != nil {
		return nil, err
	}
	change := LabelChange{Add: add, Remove: remove}
	if err := change.Check(); err != nil {
		return nil, err
	}
	if len(refs) == 0 || len(refs) > MaxBatchDevices {
		return nil, FieldError("devices", "Name from 1 to "+strconv.Itoa(MaxBatchDevices)+" devices.")
	}
	now := s.now()
	var itemErrs []ItemError
	var events []Event
	err := s.store.Update(ctx, func(tx Tx) error {
		itemErrs, events = nil, nil
		if _, err := authorizeProject(ctx, tx, p, projectID, OpDeviceUpdate); err != nil {
			return err
		}
		devices := map[string]*Device{}
		for i, ref := range refs {
			d, err := deviceIn(ctx, tx, ref, projectID)
			if ErrorCode(err) == ENOTFOUND {
				itemErrs = append(itemErrs, ItemError{Index: i, Err: ErrNotFound("Device")})
				continue
			}
			if err != nil {
				return err
			}
			labels, _ := change.Apply(d.Labels)
			if len(labels) > MaxLabels {
				itemErrs = append(itemErrs, ItemError{Index: i, Err: Errorf(EINVALID, "A device can have at most %d labels.", MaxLabels)})
				continue
			}
			ev, changed, err := s.setLabels(ctx, tx, p, now, &d, labels)
			if err != nil {
				return err
			}
			if changed {
				events = append(events, ev)
				devices[d.ID] = &d
			}
		}
		return s.log.Record(ctx, tx, events, devices)
	})
	if err != nil {
		return nil, err
	}
	s.log.Deliver(events)
	return itemErrs, nil
}

// deviceIn reads the device a ref names when it is in projectID: else
// an ENOTFOUND *Error.
func deviceIn(ctx context.Context, r DeviceReader, ref DeviceRef, projectID string) (Device, error) {
	if ref.ProjectID != projectID || !ValidDeviceID(ref.DeviceID) {
		return Device{}, ErrNotFound("Device")
	}
	d, err := r.DeviceByID(ctx, ref.DeviceID)
	if err != nil {
		return Device{}, err
	}
	if d.ProjectID != projectID {
		return Device{}, ErrNotFound("Device")
	}
	return d, nil
}

// setLabels gives d the labels, writing them with an audit entry, and
// returns the labelsChanged event (changed false when nothing changed).
func (s *Devices) setLabels(ctx context.Context, tx Tx, p Principal, now time.Time, d *Device, labels map[string]string) (Event, bool, error) {
	body := LabelsChangedBody{Added: map[string]string{}, Modified: map[string]string{}, Removed: []string{}, UpdateTime: WireTime(now)}
	for k, v := range labels {
		old, ok := d.Labels[k]
		switch {
		case !ok:
			body.Added[k] = v
		case old != v:
			body.Modified[k] = v
		}
	}
	for k := range d.Labels {
		if _, ok := labels[k]; !ok {
			body.Removed = append(body.Removed, k)
		}
	}
	if len(body.Added)+len(body.Modified)+len(body.Removed) == 0 {
		return Event{}, false, nil
	}
	d.Labels = labels
	if err := tx.SetDeviceLabels(ctx, *d); err != nil {
		return Event{}, false, err
	}
	e := auditEntry(p, now, ActionDeviceLabels, "device", d.ID, d.DisplayName())
	e.ProjectID = d.ProjectID
	if proj, err := tx.ProjectByID(ctx, d.ProjectID); err == nil {
		e.OrganizationID = proj.OrganizationID
	}
	e.Detail = labelChangeDetail(body)
	if err := tx.AddAudit(ctx, e); err != nil {
		return Event{}, false, err
	}
	b := LabelsChangedEventBody(body)
	return Event{ID: NewID(now), DeviceID: d.ID, ProjectID: d.ProjectID, Type: EventLabelsChanged, Time: b.Time, Body: b.JSON,
		DeviceType: d.Type, ProductNumber: d.ProductNumber, Labels: labels}, true, nil
}

// labelChangeDetail says what changed, for the audit log.
func labelChangeDetail(b LabelsChangedBody) string {
	var parts []string
	for _, k := range sortedLabelKeys(b.Added) {
		parts = append(parts, "+"+k+"="+shorten(b.Added[k], 40))
	}
	for _, k := range sortedLabelKeys(b.Modified) {
		parts = append(parts, "~"+k+"="+shorten(b.Modified[k], 40))
	}
	for _, k := range b.Removed {
		parts = append(parts, "-"+k)
	}
	return shorten(strings.Join(parts, " "), 500)
}

func sortedLabelKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// TransferResult says which devices moved and which did not.
type TransferResult struct {
	Moved  []DeviceRef
	Errors []ItemError
}

// Transfer moves devices into the target project. The principal needs
// device.transfer in the target (else the whole request is refused) and
// in each device's project; devices move only within one organization.
// Items that cannot move are reported one by one, the rest move in one
// transaction that also recounts both projects. Labels stay; the event
// history follows the device.
func (s *Devices) Transfer(ctx context.Context, p Principal, targetID string, refs []DeviceRef) (TransferResult, error) {
	if _, err := authorizeProject(ctx, s.store, p, targetID, OpDeviceTransfer); err != nil {
		return TransferResult{}, err
	}
	if len(refs) == 0 || len(refs) > MaxBatchDevices {
		return TransferResult{}, FieldError("devices", "Name from 1 to "+strconv.Itoa(MaxBatchDevices)+" devices.")
	}
	now := s.now()
	var res TransferResult
	err := s.store.Update(ctx, func(tx Tx) error {
		res = TransferResult{}
		target, err := authorizeProject(ctx, tx, p, targetID, OpDeviceTransfer)
		if err != nil {
			return err
		}
		sources := map[string]Access{}
		moved := map[string]bool{}
		for i, ref := range refs {
			refuse := func(code, msg string) {
				res.Errors = append(res.Errors, ItemError{Index: i, Err: Errorf(code, "%s", msg)})
			}
			if !ValidID(ref.ProjectID) || !ValidDeviceID(ref.DeviceID) {
				refuse(ENOTFOUND, "Device not found.")
				continue
			}
			if moved[ref.DeviceID] {
				res.Moved = append(res.Moved, ref)
				continue
			}
			src, ok := sources[ref.ProjectID]
			if !ok {
				src, err = tx.AccessIn(ctx, p.Account, ref.ProjectID)
				if err != nil && ErrorCode(err) != ENOTFOUND {
					return err
				}
				sources[ref.ProjectID] = src
			}
			switch {
			case !src.Allows(OpDeviceRead):
				refuse(ENOTFOUND, "Device not found.")
				continue
			case !src.Allows(OpDeviceTransfer):
				refuse(EINVALID, "Your role in the device's project does not allow moving its devices.")
				continue
			case src.Project.OrganizationID != target.Project.OrganizationID:
				refuse(EINVALID, "Devices move only between projects of the same organization.")
				continue
			}
			d, err := deviceIn(ctx, tx, ref, ref.ProjectID)
			if err != nil {
				if ErrorCode(err) == ENOTFOUND {
					refuse(ENOTFOUND, "Device not found.")
					continue
				}
				return err
			}
			moved[d.ID] = true
			res.Moved = append(res.Moved, ref)
			if d.ProjectID == targetID {
				continue
			}
			if err := tx.MoveDevice(ctx, d, targetID); err != nil {
				return err
			}
			e := auditEntry(p, now, ActionDeviceTransfer, "device", d.ID, d.DisplayName())
			e.OrganizationID, e.ProjectID = target.Project.OrganizationID, targetID
			e.Detail = "from " + src.Project.DisplayName + " (" + src.Project.ID + ") to " + target.Project.DisplayName
			if err := tx.AddAudit(ctx, e); err != nil {
				return err
			}
		}
		return nil
	})
	return res, err
}

// TransferTargets lists the projects of an organization that the
// principal may move devices into (at most MaxPageSize, by name).
func (s *Devices) TransferTargets(ctx context.Context, p Principal, orgID string) ([]Project, error) {
	projects, err := s.store.ListProjects(ctx, ProjectFilter{OrganizationID: orgID, Account: p.Account}, Cursor{}, MaxPageSize)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(projects))
	for i, pr := range projects {
		ids[i] = pr.ID
	}
	admin, err := s.store.IsOrgAdmin(ctx, p.Account, orgID)
	if err != nil {
		return nil, err
	}
	if admin {
		// An organization admin sees (and may move into) every project.
		if projects, err = s.store.ListProjects(ctx, ProjectFilter{OrganizationID: orgID}, Cursor{}, MaxPageSize); err != nil {
			return nil, err
		}
		return projects, nil
	}
	roles, _, err := s.store.RolesOf(ctx, p.Account, ids, nil)
	if err != nil {
		return nil, err
	}
	var out []Project
	for _, pr := range projects {
		if (Access{Project: pr, ProjectRole: roles[pr.ID]}).Allows(OpDeviceTransfer) {
			out = append(out, pr)
		}
	}
	return out, nil
}

// Counts counts a project's devices for its dashboard.
func (s *Devices) Counts(ctx context.Context, p Principal, projectID string) (DeviceCounts, error) {
	if _, err := authorizeProject(ctx, s.store, p, projectID, OpDeviceRead); err != nil {
		return DeviceCounts{}, err
	}
	return s.store.CountDevices(ctx, projectID, s.now().Add(-OfflineAfter), LowBatteryPercent)
}

// HistoryQuery selects a device's events: of Types (all when empty),
// between Start and End (the last 24 hours when zero).
type HistoryQuery struct {
	Types      []string
	Start, End time.Time
}

// DefaultHistoryWindow is the history's window when none is given.
const DefaultHistoryWindow = 24 * time.Hour

// History lists a device's events, newest first.
func (s *Devices) History(ctx context.Context, p Principal, projectID, deviceID string, q HistoryQuery, req PageRequest) (Page[Event], error) {
	d, err := s.Get(ctx, p, projectID, deviceID)
	if err != nil {
		return Page[Event]{}, err
	}
	f := EventFilter{DeviceID: d.ID, Start: q.Start, End: q.End}
	for _, t := range q.Types {
		if !KnownEventType(EventType(t)) {
			return Page[Event]{}, FieldError("event_types", "event_types holds "+strconv.Quote(shorten(t, 40))+", which is not an event type.")
		}
		f.Types = append(f.Types, EventType(t))
	}
	now := s.now()
	if f.Start.IsZero() {
		f.Start = now.Add(-DefaultHistoryWindow)
		if !f.End.IsZero() {
			f.Start = f.End.Add(-DefaultHistoryWindow)
		}
	}
	if f.End.IsZero() {
		// Up to now, and the events a publisher dated a little ahead.
		f.End = now.Add(maxFutureSkew)
	}
	if !f.Start.Before(f.End) {
		return Page[Event]{}, FieldError("start_time", "start_time must be before end_time.")
	}
	typeNames := make([]string, len(f.Types))
	for i, t := range f.Types {
		typeNames[i] = string(t)
	}
	// The listing is the query as asked (a default window moves with now).
	listing := Listing("events", d.ID, strings.Join(typeNames, ","), WireTime(q.Start), WireTime(q.End))
	size, after, err := normalizePage(req, listing)
	if err != nil {
		return Page[Event]{}, err
	}
	if !after.IsZero() {
		if _, err := strconv.ParseInt(after.Key, 10, 64); err != nil {
			return Page[Event]{}, FieldError("pageToken", "The page token is not valid.")
		}
	}
	items, err := s.store.ListEvents(ctx, f, after, size+1)
	if err != nil {
		return Page[Event]{}, err
	}
	for i := range items {
		items[i].ProjectID = d.ProjectID
		items[i].DeviceType, items[i].ProductNumber, items[i].Labels = d.Type, d.ProductNumber, d.Labels
	}
	return pageOf(items, size, listing, EventCursor), nil
}

// EventCursor is the keyset position of an event in the history's order.
func EventCursor(e Event) Cursor {
	return Cursor{Key: strconv.FormatInt(e.Time.UnixMicro(), 10), ID: e.ID}
}

// Chart is a device's main value over a window, in steps.
type Chart struct {
	Device  Device
	Type    EventType
	From    time.Time
	To      time.Time
	Step    time.Duration
	Buckets []SeriesBucket
	// Count, Min and Max are over the window; Last is the newest event of
	// the type (of any time), HasLast when there is one.
	Count    int
	Min, Max float64
	Last     Event
	HasLast  bool
}

// ChartWindows are the windows a chart shows, with their step.
var ChartWindows = map[time.Duration]time.Duration{
	24 * time.Hour:     5 * time.Minute,
	7 * 24 * time.Hour: time.Hour,
}

// Chart returns the device's main value over the window (24 hours or 7 days).
func (s *Devices) Chart(ctx context.Context, p Principal, projectID, deviceID string, window time.Duration) (Chart, error) {
	step, ok := ChartWindows[window]
	if !ok {
		return Chart{}, FieldError("window", "A chart shows the last 24 hours or the last 7 days.")
	}
	d, err := s.Get(ctx, p, projectID, deviceID)
	if err != nil {
		return Chart{}, err
	}
	info, _ := LookupDeviceType(d.Type)
	to := s.now().Truncate(step).Add(step)
	c := Chart{Device: d, Type: info.Main, From: to.Add(-window), To: to, Step: step}
	if c.Buckets, err = s.store.EventSeries(ctx, d.ID, c.Type, c.From, c.To, step); err != nil {
		return c, err
	}
	for i, b := range c.Buckets {
		if i == 0 || b.Min < c.Min {
			c.Min = b.Min
		}
		if i == 0 || b.Max > c.Max {
			c.Max = b.Max
		}
		c.Count += b.Count
	}
	last, err := s.store.LatestEvent(ctx, d.ID, c.Type)
	switch {
	case err == nil:
		c.Last, c.HasLast = last, true
	case ErrorCode(err) != ENOTFOUND:
		return c, err
	}
	return c, nil
}

// StreamQuery is what an event stream follows.
type StreamQuery struct {
	Devices    DeviceQuery
	EventTypes []string
}

// Stream opens an event stream of a project's devices. The caller
// closes the subscription.
func (s *Devices) Stream(ctx context.Context, p Principal, projectID string, q StreamQuery, buffer int) (Subscription, error) {
	if _, err := authorizeProject(ctx, s.store, p, projectID, OpDeviceRead); err != nil {
		return nil, err
	}
	f, err := q.Devices.filter()
	if err != nil {
		return nil, err
	}
	sf := StreamFilter{ProjectID: projectID, Devices: f}
	for _, t := range q.EventTypes {
		if !KnownEventType(EventType(t)) {
			return nil, FieldError("event_types", "event_types holds "+strconv.Quote(shorten(t, 40))+", which is not an event type.")
		}
		sf.EventTypes = append(sf.EventTypes, EventType(t))
	}
	return s.log.Hub().Subscribe(sf, buffer), nil
}
