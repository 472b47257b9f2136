package views

import (
	"math"
	"strconv"
	"strings"
	"time"

	"studio/domain"
)

// A device's chart, drawn on the server as inline SVG: no chart library,
// no script. The plot is a fixed viewBox that scales with the page.

// chartKind says how a main value is drawn.
type chartKind int

const (
	chartLine  chartKind = iota // numbers: a line of each step's mean, a band from min to max
	chartState                  // on/off states: a step line, high where the step saw "on"
	chartCount                  // touches: a bar per step
)

// ChartView is a chart ready to draw.
type ChartView struct {
	Width, Height float64
	// The plot area inside the axes.
	Left, Top, Right, Bottom float64
	Line                     string // the path of the line (steps for states)
	Band                     string // the path of the min–max band
	Bars                     []ChartBar
	YTicks, XTicks           []ChartTick
	Empty                    bool
	Title                    string // what is drawn, for the label and the heading
	// Summary: the window's min and max, and the latest value with its time.
	Min, Max, Last, LastTime string
	Count                    int
}

// ChartBar is one bar of a count chart.
type ChartBar struct{ X, Y, W, H float64 }

// ChartTick is one tick of an axis at a position, with its label.
type ChartTick struct {
	At    float64
	Label string
}

func (v ChartView) AriaLabel() string {
	if v.Empty {
		return v.Title + ": no values in this window"
	}
	return v.Title + ", from " + v.Min + " to " + v.Max + ", latest " + v.Last
}

func (v ChartView) viewBox() string {
	return "0 0 " + ftoa(v.Width) + " " + ftoa(v.Height)
}

func ftoa(f float64) string { return strconv.FormatFloat(math.Round(f*10)/10, 'f', -1, 64) }

// chartUnit is the unit and title of a chart of event type et.
func chartUnit(et domain.EventType) (title, unit string, kind chartKind) {
	switch et {
	case domain.EventTemperature:
		return "Temperature", " °C", chartLine
	case domain.EventHumidity:
		return "Relative humidity", " %", chartLine
	case domain.EventCO2:
		return "CO2", " ppm", chartLine
	case domain.EventObjectPresentCount, domain.EventTouchCount:
		return "Total count", "", chartLine
	case domain.EventTouch:
		return "Touches", "", chartCount
	case domain.EventObjectPresent:
		return "Object present", "", chartState
	case domain.EventWaterPresent:
		return "Water present", "", chartState
	case domain.EventContact:
		return "Door open", "", chartState
	case domain.EventMotion:
		return "Motion", "", chartState
	case domain.EventDeskOccupancy:
		return "Desk occupied", "", chartState
	}
	return eventTypeName(et), "", chartLine
}

// BuildChart lays a chart out in a width × height box, with times in loc.
func BuildChart(c domain.Chart, width, height float64, loc *time.Location) ChartView {
	title, unit, kind := chartUnit(c.Type)
	v := ChartView{Width: width, Height: height, Left: 52, Top: 12, Right: width - 12, Bottom: height - 28,
		Title: title, Count: c.Count, Empty: len(c.Buckets) == 0}
	span := c.To.Sub(c.From)
	x := func(t time.Time) float64 {
		return v.Left + (v.Right-v.Left)*float64(t.Sub(c.From))/float64(span)
	}
	v.XTicks = timeTicks(c.From, c.To, loc, x)
	if c.HasLast {
		v.Last = bodyText(c.Last.Type, c.Last.Body)
		v.LastTime = c.Last.Time.In(loc).Format("2006-01-02 15:04")
	}
	if v.Empty {
		return v
	}
	lo, hi := c.Min, c.Max
	switch kind {
	case chartState:
		lo, hi = 0, 1
		v.Min, v.Max = "off", "on"
	case chartCount:
		lo, hi = 0, 0
		for _, b := range c.Buckets {
			hi = math.Max(hi, float64(b.Count))
		}
		v.Min, v.Max = "0", strconv.Itoa(int(hi))+" a step"
	default:
		v.Min, v.Max = fmtNum(c.Min)+unit, fmtNum(c.Max)+unit
	}
	var ticks []float64
	lo, hi, ticks = niceRange(lo, hi)
	y := func(val float64) float64 {
		return v.Bottom - (v.Bottom-v.Top)*(val-lo)/(hi-lo)
	}
	for _, t := range ticks {
		label := fmtNum(t)
		if kind == chartState {
			label = map[float64]string{0: "off", 1: "on"}[t]
			if label == "" {
				continue
			}
		}
		v.YTicks = append(v.YTicks, ChartTick{At: y(t), Label: label})
	}
	step := c.Step
	w := x(c.From.Add(step)) - x(c.From)
	var line, band strings.Builder
	var upper, lower []string
	flushBand := func() {
		if len(upper) == 0 {
			return
		}
		band.WriteString("M" + strings.Join(upper, "L"))
		for i := len(lower) - 1; i >= 0; i-- {
			band.WriteString("L" + lower[i])
		}
		band.WriteString("Z")
		upper, lower = nil, nil
	}
	// A line breaks where the values stop for long (a twelfth of the
	// window); shorter gaps are joined, as sensors report every few minutes.
	maxGap := span / 12
	// A lone point is a dot: a tiny segment with round caps.
	lone := 0
	endSub := func() {
		if lone == 1 {
			line.WriteString("l0.1 0")
		}
		lone = 0
	}
	var prev time.Time
	prevY := 0.0
	for i, b := range c.Buckets {
		x0 := x(b.Start)
		gap := i == 0 || b.Start.Sub(prev) > maxGap
		switch kind {
		case chartCount:
			h := (v.Bottom - v.Top) * float64(b.Count) / (hi - lo)
			v.Bars = append(v.Bars, ChartBar{X: x0 + w*0.1, Y: v.Bottom - h, W: math.Max(w*0.8, 1), H: h})
		case chartState:
			// High where the step saw the "on" state at all; held until the next.
			yy := y(b.Max)
			if gap {
				line.WriteString("M" + pt(x0, yy))
			} else {
				line.WriteString("L" + pt(x0, prevY) + "L" + pt(x0, yy))
			}
			line.WriteString("L" + pt(x0+w, yy))
			prevY = yy
		default:
			mid := x0 + w/2
			if gap {
				endSub()
				flushBand()
				line.WriteString("M" + pt(mid, y(b.Avg)))
			} else {
				line.WriteString("L" + pt(mid, y(b.Avg)))
			}
			lone++
			upper = append(upper, pt(mid, y(b.Max)))
			lower = append(lower, pt(mid, y(b.Min)))
		}
		prev = b.Start
	}
	if kind == chartLine {
		endSub()
	}
	flushBand()
	v.Line, v.Band = line.String(), band.String()
	return v
}

func pt(x, y float64) string { return ftoa(x) + " " + ftoa(y) }

// niceRange widens [lo, hi] to round ticks, 3 to 6 of them.
func niceRange(lo, hi float64) (float64, float64, []float64) {
	if hi-lo < 1e-9 {
		lo, hi = lo-1, hi+1
	}
	raw := (hi - lo) / 4
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	lo = math.Floor(lo/step) * step
	hi = math.Ceil(hi/step) * step
	var ticks []float64
	for t := lo; t <= hi+step/2; t += step {
		ticks = append(ticks, math.Round(t/step)*step)
	}
	return lo, hi, ticks
}

// timeTicks marks every 3 hours of a day's window, every day of a week's.
func timeTicks(from, to time.Time, loc *time.Location, x func(time.Time) float64) []ChartTick {
	every, layout := 3*time.Hour, "15:04"
	if to.Sub(from) > 48*time.Hour {
		every, layout = 24*time.Hour, "Mon 2"
	}
	local := from.In(loc)
	first := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, loc)
	var out []ChartTick
	for t := first; !t.After(to); t = t.Add(every) {
		if t.Before(from) {
			continue
		}
		out = append(out, ChartTick{At: x(t), Label: t.Format(layout)})
	}
	return out
}
