package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strings"
)

// report is everything one run measured; --json writes it, --compare reads it.
type report struct {
	Meta        runMeta     `json:"meta"`
	Routes      []routeInfo `json:"routes"`
	Points      []point     `json:"points"`
	PeakHWMMiB  float64     `json:"peakHWMMiB"`
	FinalRSSMiB float64     `json:"finalRSSMiB"`
}

type runMeta struct {
	Start           string  `json:"start"`
	CPUs            int     `json:"cpus"`
	GoVersion       string  `json:"goVersion"`
	Build           string  `json:"build"`
	Duration        string  `json:"duration"`
	Concurrency     []int   `json:"concurrency"`
	Repeat          int     `json:"repeat"`
	Seeded          string  `json:"seeded"`
	DBSizeMiB       float64 `json:"dbSizeMiB"`
	Project         string  `json:"project"`
	ProjectAccounts int     `json:"projectAccounts"`
	ProjectMembers  int     `json:"projectMembers"`
	IdleRSSMiB      float64 `json:"idleRSSMiB"`
	Machine         string  `json:"machine"`
	// Load averages (1, 5, 15 minutes) when the measuring began and ended.
	LoadAvgStart []float64 `json:"loadAvgStart"`
	LoadAvgEnd   []float64 `json:"loadAvgEnd"`
	// CPUs each process was allowed (Cpus_allowed_list), "" unpinned.
	ServerCPUs   string   `json:"serverCPUs"`
	BaselineCPUs string   `json:"baselineCPUs"`
	ClientCPUs   string   `json:"clientCPUs"`
	ServerLog    string   `json:"-"`
	Notes        []string `json:"notes"`
}

type routeInfo struct {
	Name   string `json:"name"`
	Title  string `json:"title"`
	Method string `json:"method"`
	Path   string `json:"path"`
	Bytes  int    `json:"bytes"`
}

// point is one route at one concurrency: its rounds, and their medians.
type point struct {
	Route       string  `json:"route"`
	Concurrency int     `json:"concurrency"`
	Rounds      []round `json:"rounds"`
	// Server and Baseline are the medians of the rounds, field by field.
	Server   stats   `json:"server"`
	Baseline stats   `json:"baseline"`
	Ratio    float64 `json:"ratio"` // median share of the baseline's req/s
	RSSMiB   float64 `json:"rssMiB"`
	HWMMiB   float64 `json:"hwmMiB"`
	OtherCPU float64 `json:"otherCPU"` // most of the machine (%) other processes used in a round, -1 unknown
}

// round is the server and then its baseline, one run each.
type round struct {
	Server   stats `json:"server"`
	Baseline stats `json:"baseline"`
}

// summarize sets the medians of the rounds.
func (p *point) summarize() {
	var sv, bl []stats
	for _, r := range p.Rounds {
		sv, bl = append(sv, r.Server), append(bl, r.Baseline)
	}
	p.Server, p.Baseline = medianStats(sv), medianStats(bl)
	p.Ratio = median(p.shares())
}

// shares are the rounds' server req/s over their baseline's.
func (p *point) shares() []float64 {
	var out []float64
	for _, r := range p.Rounds {
		if r.Baseline.ReqPerSec > 0 {
			out = append(out, r.Server.ReqPerSec/r.Baseline.ReqPerSec)
		}
	}
	return out
}

// medianStats is the median of each figure; counts are summed.
func medianStats(runs []stats) stats {
	var st stats
	var rps, p50, p99, cpu []float64
	for _, r := range runs {
		st.Requests += r.Requests
		st.Errors += r.Errors
		if st.FirstError == "" {
			st.FirstError = r.FirstError
		}
		rps, p50, p99 = append(rps, r.ReqPerSec), append(p50, r.P50ms), append(p99, r.P99ms)
		if r.CPUPerReqMs >= 0 {
			cpu = append(cpu, r.CPUPerReqMs)
		}
	}
	st.ReqPerSec, st.P50ms, st.P99ms = median(rps), median(p50), median(p99)
	st.CPUPerReqMs = -1
	if len(cpu) > 0 {
		st.CPUPerReqMs = median(cpu)
	}
	return st
}

// median of xs (the lower middle of an even count); NaN for none.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[(len(s)-1)/2]
}

func readReport(path string) (*report, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	r := new(report)
	if err := json.Unmarshal(raw, r); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return r, nil
}

func (r *report) find(route string, c int) (point, bool) {
	for _, p := range r.Points {
		if p.Route == route && p.Concurrency == c {
			return p, true
		}
	}
	return point{}, false
}

func writeMarkdown(w io.Writer, r *report, prev *report) {
	m := r.Meta
	fmt.Fprintf(w, "## Load benchmark, %s\n\n", m.Start)
	fmt.Fprintf(w, "- Machine: %s\n", m.Machine)
	fmt.Fprintf(w, "- Load average (1, 5, 15 min): %s at the start, %s at the end\n", loadAvg(m.LoadAvgStart), loadAvg(m.LoadAvgEnd))
	if m.ServerCPUs != "" {
		fmt.Fprintf(w, "- Pinned: studio server on CPU %s, baseline on CPU %s, load client on CPU %s (Cpus_allowed_list; Go sets GOMAXPROCS to the CPUs allowed)\n",
			m.ServerCPUs, m.BaselineCPUs, m.ClientCPUs)
	} else {
		fmt.Fprintf(w, "- Not pinned: server, baseline and load client share the %d CPUs\n", m.CPUs)
	}
	if m.Build != "" {
		fmt.Fprintf(w, "- Server: %s\n", m.Build)
	}
	fmt.Fprintf(w, "- Database: %s; file %.0f MiB\n", m.Seeded, m.DBSizeMiB)
	fmt.Fprintf(w, "- Project under test %s: %s accounts, %s memberships\n", m.Project, count(m.ProjectAccounts), count(m.ProjectMembers))
	fmt.Fprintf(w, "- Each point: %d round(s) of %s at each of %v clients, each round the server then its baseline (a bare Echo handler on the same CPU writing the same bytes from memory); closed loop, keep-alive; figures are the medians of the rounds\n",
		m.Repeat, m.Duration, m.Concurrency)
	for _, n := range m.Notes {
		fmt.Fprintf(w, "- Note: %s\n", n)
	}
	fmt.Fprintln(w)

	writeSummary(w, r)

	fmt.Fprintln(w, "| route | what | request | response bytes |")
	fmt.Fprintln(w, "|---|---|---|--:|")
	for _, ri := range r.Routes {
		path := ri.Path
		if len(path) > 90 {
			path = path[:87] + "..."
		}
		fmt.Fprintf(w, "| %s | %s | `%s %s` | %d |\n", ri.Name, ri.Title, ri.Method, path, ri.Bytes)
	}
	fmt.Fprintln(w)

	fmt.Fprintln(w, "| route | clients | req/s | p50 ms | p99 ms (rounds) | CPU/req ms | errors | baseline req/s | baseline p99 ms | baseline CPU/req ms | share (rounds) | server RSS MiB | other CPU |")
	fmt.Fprintln(w, "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
	busy := 0.0
	for _, p := range r.Points {
		var p99s []float64
		for _, rd := range p.Rounds {
			p99s = append(p99s, rd.Server.P99ms)
		}
		fmt.Fprintf(w, "| %s | %d | %.0f | %s | %s (%s) | %s | %d | %.0f | %s | %s | %s | %.0f | %s |\n",
			p.Route, p.Concurrency, p.Server.ReqPerSec, ms(p.Server.P50ms), ms(p.Server.P99ms), msRange(p99s),
			cpuMs(p.Server.CPUPerReqMs), p.Server.Errors, p.Baseline.ReqPerSec, ms(p.Baseline.P99ms), cpuMs(p.Baseline.CPUPerReqMs),
			shareRange(p.shares()), p.RSSMiB, pct(p.OtherCPU))
		busy = max(busy, p.OtherCPU)
	}
	if busy > 10 {
		fmt.Fprintf(w, "\n**Warning**: other processes used up to %.0f %% of the machine during a round: "+
			"req/s and latencies are noisy; CPU per request is the steadiest figure.\n", busy)
	}
	fmt.Fprintf(w, "\nServer memory: idle %.0f MiB before the load, %.0f MiB at the end, peak resident (VmHWM) %.0f MiB.\n\n",
		m.IdleRSSMiB, r.FinalRSSMiB, r.PeakHWMMiB)

	writeTargets(w, r)
	if prev != nil {
		writeComparison(w, r, prev)
	}
}

// writeSummary prints the table of issue 17: per route, req/s at each
// client count, the range of its share of the baseline and of its CPU per
// request over every round, and the p99 at the most clients.
func writeSummary(w io.Writer, r *report) {
	top := slices.Max(r.Meta.Concurrency)
	conc := make([]string, len(r.Meta.Concurrency))
	for i, c := range r.Meta.Concurrency {
		conc[i] = fmt.Sprint(c)
	}
	fmt.Fprintf(w, "| route | req/s at %s clients | share of the same-bytes baseline | server CPU per request | p99 at %d clients |\n",
		strings.Join(conc, " / "), top)
	fmt.Fprintln(w, "|---|--:|--:|--:|--:|")
	for _, ri := range r.Routes {
		var rps []string
		var shares, cpus []float64
		p99 := math.NaN()
		for _, c := range r.Meta.Concurrency {
			p, ok := r.find(ri.Name, c)
			if !ok {
				rps = append(rps, "–")
				continue
			}
			rps = append(rps, thousands(p.Server.ReqPerSec))
			shares = append(shares, p.shares()...)
			for _, rd := range p.Rounds {
				if rd.Server.CPUPerReqMs >= 0 {
					cpus = append(cpus, rd.Server.CPUPerReqMs)
				}
			}
			if c == top {
				p99 = p.Server.P99ms
			}
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s ms | %s |\n", ri.Title, strings.Join(rps, " / "), shareRange(shares), numRange(cpus, 2), duration(p99))
	}
	fmt.Fprintln(w)
}

func loadAvg(la []float64) string {
	if len(la) < 3 {
		return "?"
	}
	return fmt.Sprintf("%.2f, %.2f, %.2f", la[0], la[1], la[2])
}

// shareRange is the range of shares, in per cent: "4.9–7.1 %".
func shareRange(shares []float64) string {
	pcts := make([]float64, len(shares))
	for i, s := range shares {
		pcts[i] = 100 * s
	}
	return numRange(pcts, 1) + " %"
}

// numRange is "lo–hi" with the given decimals, or one number when they round alike.
func numRange(xs []float64, decimals int) string {
	if len(xs) == 0 {
		return "?"
	}
	lo := fmt.Sprintf("%.*f", decimals, slices.Min(xs))
	hi := fmt.Sprintf("%.*f", decimals, slices.Max(xs))
	if lo == hi {
		return lo
	}
	return lo + "–" + hi
}

// msRange is the range of latencies in ms.
func msRange(xs []float64) string {
	if len(xs) == 0 {
		return "?"
	}
	lo, hi := ms(slices.Min(xs)), ms(slices.Max(xs))
	if lo == hi {
		return lo
	}
	return lo + "–" + hi
}

func cpuMs(v float64) string {
	if v < 0 || math.IsNaN(v) {
		return "?"
	}
	return fmt.Sprintf("%.3f", v)
}

// duration is a latency in ms as people read it: "21 ms", "2.8 s".
func duration(msv float64) string {
	switch {
	case math.IsNaN(msv):
		return "–"
	case msv >= 1000:
		return fmt.Sprintf("%.1f s", msv/1000)
	case msv >= 10:
		return fmt.Sprintf("%.0f ms", msv)
	default:
		return fmt.Sprintf("%.1f ms", msv)
	}
}

// thousands writes a rate with a thousands separator: 1,181.
func thousands(v float64) string {
	n := int64(math.Round(v))
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func count(n int) string {
	if n < 0 {
		return "?"
	}
	return fmt.Sprint(n)
}

func pct(v float64) string {
	if v < 0 {
		return "?"
	}
	return fmt.Sprintf("%.0f %%", v)
}

func ms(v float64) string {
	if math.IsNaN(v) {
		return "–"
	}
	if v < 10 {
		return fmt.Sprintf("%.2f", v)
	}
	return fmt.Sprintf("%.1f", v)
}

// writeTargets checks the figures against the targets of issue 17 at the
// run's highest concurrency (64 by default), set for the server pinned to
// one CPU, and the deep-page targets of issue 6.
func writeTargets(w io.Writer, r *report) {
	c := slices.Max(r.Meta.Concurrency)
	fmt.Fprintf(w, "### Targets (issue 17, at %d concurrent clients, server on one CPU)\n\n", c)
	fmt.Fprintln(w, "| target | figure | met |")
	fmt.Fprintln(w, "|---|---|:-:|")
	row := func(target, figure string, ok bool) {
		mark := "yes"
		if !ok {
			mark = "**no**"
		}
		fmt.Fprintf(w, "| %s | %s | %s |\n", target, figure, mark)
	}
	for _, name := range []string{"api-sa-basic", "api-sa-bearer"} {
		if p, ok := r.find(name, c); ok {
			row(name+": ≥ 25 % of baseline, ≤ 0.3 ms CPU per request, p99 ≤ 50 ms",
				fmt.Sprintf("%.1f %%, %s ms, p99 %s", 100*p.Ratio, cpuMs(p.Server.CPUPerReqMs), duration(p.Server.P99ms)),
				p.Ratio >= 0.25 && p.Server.CPUPerReqMs >= 0 && p.Server.CPUPerReqMs <= 0.3 && p.Server.P99ms <= 50 && p.Server.Errors == 0)
		}
	}
	for _, name := range []string{"sa-list", "sa-list-deep", "members", "members-deep"} {
		if p, ok := r.find(name, c); ok {
			row(fmt.Sprintf("console page %s: ≥ 20 %% of baseline, p99 ≤ 50 ms", name),
				fmt.Sprintf("%.1f %%, p99 %s", 100*p.Ratio, duration(p.Server.P99ms)), p.Ratio >= 0.20 && p.Server.P99ms <= 50 && p.Server.Errors == 0)
		}
	}
	if p, ok := r.find("token", c); ok {
		row("token exchange ≥ 1,500/s on one CPU, p99 ≤ 50 ms", fmt.Sprintf("%s/s, p99 %s", thousands(p.Server.ReqPerSec), duration(p.Server.P99ms)),
			p.Server.ReqPerSec >= 1500 && p.Server.P99ms <= 50 && p.Server.Errors == 0)
	}
	for _, pair := range [][2]string{{"sa-list", "sa-list-deep"}, {"members", "members-deep"}, {"api-sa-bearer", "api-sa-deep"}} {
		first, ok1 := r.find(pair[0], c)
		deep, ok2 := r.find(pair[1], c)
		if !ok1 || !ok2 || deep.Server.ReqPerSec == 0 {
			continue
		}
		cost := first.Server.ReqPerSec / deep.Server.ReqPerSec
		fig := fmt.Sprintf("%.2f× (req/s %.0f vs %.0f)", cost, first.Server.ReqPerSec, deep.Server.ReqPerSec)
		row(fmt.Sprintf("deep page %s costs ≤ 1.5× the first page", pair[1]), fig, cost <= 1.5)
	}
	row("server resident memory ≤ 150 MiB (peak VmHWM)", fmt.Sprintf("%.0f MiB", r.PeakHWMMiB), r.PeakHWMMiB <= 150)
	fmt.Fprintln(w)
}

// writeComparison prints how much each point costs in this run relative to
// an earlier one: its req/s over ours (2.00 means half the throughput here).
func writeComparison(w io.Writer, r, prev *report) {
	fmt.Fprintf(w, "### Cost here relative to the --compare run (%s)\n\n", prev.Meta.Seeded)
	fmt.Fprintln(w, "Cost = that run's req/s ÷ this run's req/s (the target for 1,000,000 vs 1,000 accounts is ≤ 2×).")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| route | conc | req/s there | req/s here | p50 ms there | p50 ms here | cost | ≤ 2× |")
	fmt.Fprintln(w, "|---|--:|--:|--:|--:|--:|--:|:-:|")
	for _, p := range r.Points {
		q, ok := prev.find(p.Route, p.Concurrency)
		if !ok || p.Server.ReqPerSec == 0 {
			continue
		}
		cost := q.Server.ReqPerSec / p.Server.ReqPerSec
		mark := "yes"
		if cost > 2 {
			mark = "**no**"
		}
		fmt.Fprintf(w, "| %s | %d | %.0f | %.0f | %s | %s | %.2f× | %s |\n", p.Route, p.Concurrency,
			q.Server.ReqPerSec, p.Server.ReqPerSec, ms(q.Server.P50ms), ms(p.Server.P50ms), cost, mark)
	}
	fmt.Fprintln(w)
}

// writeReport prints the Markdown table to w and, with --json, saves the
// results for a later --compare or --render.
func writeReport(w io.Writer, jsonOut string, rep *report, prev *report) error {
	writeMarkdown(w, rep, prev)
	if jsonOut == "" {
		return nil
	}
	raw, _ := json.MarshalIndent(rep, "", "  ")
	if err := os.WriteFile(jsonOut, append(raw, '\n'), 0o644); err != nil {
		return err
	}
	logf("results written to %s", jsonOut)
	return nil
}
