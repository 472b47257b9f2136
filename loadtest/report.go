package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
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
	Start           string   `json:"start"`
	CPUs            int      `json:"cpus"`
	GoVersion       string   `json:"goVersion"`
	Build           string   `json:"build"`
	Duration        string   `json:"duration"`
	Concurrency     []int    `json:"concurrency"`
	Repeat          int      `json:"repeat"`
	Seeded          string   `json:"seeded"`
	DBSizeMiB       float64  `json:"dbSizeMiB"`
	Project         string   `json:"project"`
	ProjectAccounts int      `json:"projectAccounts"`
	ProjectMembers  int      `json:"projectMembers"`
	IdleRSSMiB      float64  `json:"idleRSSMiB"`
	LoadAvg         float64  `json:"loadAvg"`
	ServerLog       string   `json:"-"`
	Notes           []string `json:"notes"`
}

type routeInfo struct {
	Name   string `json:"name"`
	Title  string `json:"title"`
	Method string `json:"method"`
	Path   string `json:"path"`
	Bytes  int    `json:"bytes"`
}

type point struct {
	Route       string  `json:"route"`
	Concurrency int     `json:"concurrency"`
	Server      stats   `json:"server"`
	Baseline    stats   `json:"baseline"`
	Ratio       float64 `json:"ratio"`
	RSSMiB      float64 `json:"rssMiB"`
	HWMMiB      float64 `json:"hwmMiB"`
	OtherCPU    float64 `json:"otherCPU"` // % of the machine used by other processes during the point, -1 unknown
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
	fmt.Fprintf(w, "- Machine: %d CPUs (server, load generator and baseline share them), %s\n", m.CPUs, m.GoVersion)
	if m.Build != "" {
		fmt.Fprintf(w, "- Server: %s\n", m.Build)
	}
	fmt.Fprintf(w, "- Database: %s; file %.0f MiB\n", m.Seeded, m.DBSizeMiB)
	fmt.Fprintf(w, "- Project under test %s: %s accounts, %s memberships\n", m.Project, count(m.ProjectAccounts), count(m.ProjectMembers))
	fmt.Fprintf(w, "- Each point: %s per concurrency level %v, for the server and then for its baseline; closed loop, keep-alive",
		m.Duration, m.Concurrency)
	if m.Repeat > 1 {
		fmt.Fprintf(w, "; best of %d rounds", m.Repeat)
	}
	fmt.Fprintln(w)
	for _, n := range m.Notes {
		fmt.Fprintf(w, "- Note: %s\n", n)
	}
	fmt.Fprintln(w)

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

	fmt.Fprintln(w, "| route | conc | req/s | p50 ms | p99 ms | errors | baseline req/s | baseline p50 ms | baseline p99 ms | ratio | server RSS MiB | other CPU |")
	fmt.Fprintln(w, "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
	busy := 0.0
	for _, p := range r.Points {
		fmt.Fprintf(w, "| %s | %d | %.0f | %s | %s | %d | %.0f | %s | %s | %.1f %% | %.0f | %s |\n",
			p.Route, p.Concurrency, p.Server.ReqPerSec, ms(p.Server.P50ms), ms(p.Server.P99ms), p.Server.Errors,
			p.Baseline.ReqPerSec, ms(p.Baseline.P50ms), ms(p.Baseline.P99ms), 100*p.Ratio, p.RSSMiB, pct(p.OtherCPU))
		busy = max(busy, p.OtherCPU)
	}
	if busy > 10 {
		fmt.Fprintf(w, "\n**Warning**: other processes used up to %.0f %% of the machine during a point (load average %.1f at the start): "+
			"these figures are noisy; rerun on an idle machine.\n", busy, m.LoadAvg)
	}
	fmt.Fprintf(w, "\nServer memory: idle %.0f MiB before the load, %.0f MiB at the end, peak resident (VmHWM) %.0f MiB.\n\n",
		m.IdleRSSMiB, r.FinalRSSMiB, r.PeakHWMMiB)

	writeTargets(w, r)
	if prev != nil {
		writeComparison(w, r, prev)
	}
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

// writeTargets checks the figures against the targets of issue 6 at the
// run's highest concurrency (64 by default). The targets are set for
// 2 cores and a database of 1,000,000 accounts.
func writeTargets(w io.Writer, r *report) {
	c := 0
	for _, x := range r.Meta.Concurrency {
		c = max(c, x)
	}
	fmt.Fprintf(w, "### Targets (issue 6, at %d concurrent clients; set for 2 cores and 1,000,000 accounts)\n\n", c)
	fmt.Fprintln(w, "| target | figure | met |")
	fmt.Fprintln(w, "|---|---|:-:|")
	row := func(target, figure string, ok bool) {
		mark := "yes"
		if !ok {
			mark = "**no**"
		}
		fmt.Fprintf(w, "| %s | %s | %s |\n", target, figure, mark)
	}
	if p, ok := r.find("api-sa-bearer", c); ok {
		row("API list, Bearer: ≥ 30 % of baseline, p99 ≤ 25 ms",
			fmt.Sprintf("%.1f %%, p99 %s ms", 100*p.Ratio, ms(p.Server.P99ms)), p.Ratio >= 0.30 && p.Server.P99ms <= 25 && p.Server.Errors == 0)
	}
	if p, ok := r.find("api-sa-basic", c); ok {
		row("API list, Basic: ≥ 25 % of baseline", fmt.Sprintf("%.1f %%, p99 %s ms", 100*p.Ratio, ms(p.Server.P99ms)), p.Ratio >= 0.25 && p.Server.Errors == 0)
	}
	for _, name := range []string{"sa-list", "sa-list-deep", "members", "members-deep"} {
		if p, ok := r.find(name, c); ok {
			row(fmt.Sprintf("console list page %s: ≥ 20 %% of baseline, p99 ≤ 40 ms", name),
				fmt.Sprintf("%.1f %%, p99 %s ms", 100*p.Ratio, ms(p.Server.P99ms)), p.Ratio >= 0.20 && p.Server.P99ms <= 40 && p.Server.Errors == 0)
		}
	}
	if p, ok := r.find("token", c); ok {
		row("token exchange ≥ 3,000/s", fmt.Sprintf("%.0f/s", p.Server.ReqPerSec), p.Server.ReqPerSec >= 3000 && p.Server.Errors == 0)
	}
	for _, pair := range [][2]string{{"sa-list", "sa-list-deep"}, {"members", "members-deep"}, {"api-sa-bearer", "api-sa-deep"}} {
		first, ok1 := r.find(pair[0], c)
		deep, ok2 := r.find(pair[1], c)
		if !ok1 || !ok2 || deep.Server.ReqPerSec == 0 {
			continue
		}
		cost := first.Server.ReqPerSec / deep.Server.ReqPerSec
		fig := fmt.Sprintf("%.2f× (req/s %.0f vs %.0f)", cost, first.Server.ReqPerSec, deep.Server.ReqPerSec)
		if f1, ok := r.find(pair[0], 1); ok {
			if d1, ok := r.find(pair[1], 1); ok {
				fig += fmt.Sprintf("; p50 at 1 client %s vs %s ms", ms(f1.Server.P50ms), ms(d1.Server.P50ms))
			}
		}
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
