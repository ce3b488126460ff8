package main

import (
	"fmt"
	"image/color"
	"math"
	"path/filepath"
	"sort"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/hikube/hikube/test/benchsamples"
)

// backendColors keeps a backend's colour the same in every figure.
var backendColors = map[string]color.Color{
	"aggregated": color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff},
	"crd":        color.RGBA{R: 0xff, G: 0x7f, B: 0x0e, A: 0xff},
	"direct":     color.RGBA{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff},
}

func colorOf(name string, i int) color.Color {
	if c, ok := backendColors[name]; ok {
		return c
	}
	return plotutil.Color(i + 3)
}

// latencyPlot draws one box per (operation, backend) on a log axis: the
// spread of the samples, not only their mean, aggregated next to the CRD.
func latencyPlot(series []benchsamples.Series, title, path string) error {
	if len(series) == 0 {
		return nil
	}
	groups, byGroup := groupSeries(series)
	p := plot.New()
	p.Title.Text = title
	p.Y.Label.Text = "ms per operation (log scale)"
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
	var names []string
	legend := map[string]bool{}
	loc := 0.0
	for _, g := range groups {
		for i, s := range byGroup[g] {
			vals := positive(s.MS)
			if len(vals) == 0 {
				continue
			}
			box, err := plotter.NewBoxPlot(vg.Points(14), loc, vals)
			if err != nil {
				return fmt.Errorf("box of %s/%s: %w", g, s.Name, err)
			}
			box.FillColor = colorOf(s.Name, i)
			p.Add(box)
			if !legend[s.Name] {
				legend[s.Name] = true
				p.Legend.Add(s.Name, swatch{box.FillColor})
			}
			names = append(names, fmt.Sprintf("%s\n%s", g, s.Name))
			loc++
		}
	}
	if loc == 0 {
		return nil
	}
	p.NominalX(names...)
	p.X.Tick.Label.Rotation = 0
	p.Legend.Top = true
	width := vg.Length(math.Max(6, 1.1*loc)) * vg.Inch
	return save(p, width, 4*vg.Inch, path)
}

// phasesPlot draws, per subject, the mean time to each milestone as one
// horizontal bar stacked from the start: where create→Ready goes.
func phasesPlot(series []benchsamples.Series, title, path string) error {
	if len(series) == 0 {
		return nil
	}
	subjects, bySubject := groupSeries(series)
	// The milestones in the order of their mean times over all subjects.
	type milestone struct {
		name  string
		order int
		mean  float64
	}
	seen := map[string]*milestone{}
	for _, s := range series {
		m := seen[s.Name]
		if m == nil {
			m = &milestone{name: s.Name, order: s.Order}
			seen[s.Name] = m
		}
		m.mean = math.Max(m.mean, mean(s.MS))
	}
	var milestones []*milestone
	for _, m := range seen {
		milestones = append(milestones, m)
	}
	sort.Slice(milestones, func(i, j int) bool {
		if milestones[i].order != milestones[j].order {
			return milestones[i].order < milestones[j].order
		}
		return milestones[i].mean < milestones[j].mean
	})
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "ms from the create request (mean)"
	var below *plotter.BarChart
	for i, m := range milestones {
		// Each segment is the time from the previous milestone's mean to
		// this one's, per subject; a milestone a subject never reached
		// (or reached earlier) adds nothing.
		vals := make(plotter.Values, len(subjects))
		for j, subj := range subjects {
			prev := 0.0
			for _, earlier := range milestones[:i] {
				if s := find(bySubject[subj], earlier.name); s != nil {
					prev = math.Max(prev, mean(s.MS))
				}
			}
			if s := find(bySubject[subj], m.name); s != nil {
				vals[j] = math.Max(0, mean(s.MS)-prev)
			}
		}
		bar, err := plotter.NewBarChart(vals, vg.Points(22))
		if err != nil {
			return fmt.Errorf("bar of %s: %w", m.name, err)
		}
		bar.Horizontal = true
		bar.Color = plotutil.Color(i)
		bar.LineStyle.Width = 0
		if below != nil {
			bar.StackOn(below)
		}
		below = bar
		p.Add(bar)
		p.Legend.Add(m.name, bar)
	}
	p.NominalY(subjects...)
	// Room on the right for the legend, clear of the longest bar.
	_, xmax, _, _ := below.DataRange()
	p.X.Min, p.X.Max = 0, xmax*1.4
	p.Legend.Top = true
	p.Legend.Left = false
	return save(p, 8*vg.Inch, vg.Length(1.5+0.6*float64(len(subjects)))*vg.Inch, path)
}

// histogramPlot draws the samples of one series as a histogram.
func histogramPlot(s benchsamples.Series, path string) error {
	if len(s.MS) == 0 {
		return nil
	}
	bins := int(math.Max(5, math.Min(30, math.Sqrt(float64(len(s.MS)))*2)))
	h, err := plotter.NewHist(plotter.Values(s.MS), bins)
	if err != nil {
		return fmt.Errorf("histogram of %s: %w", s.Group, err)
	}
	h.FillColor = plotutil.Color(0)
	p := plot.New()
	p.Title.Text = fmt.Sprintf("%s (%d samples, median %.0f ms)", s.Group, len(s.MS), median(s.MS))
	p.X.Label.Text = s.Name + " (ms)"
	p.Y.Label.Text = "samples"
	p.Add(h)
	return save(p, 7*vg.Inch, 4*vg.Inch, path)
}

// swatch is a legend entry of one colour (box plots have no thumbnail).
type swatch struct{ color color.Color }

func (s swatch) Thumbnail(c *draw.Canvas) {
	c.FillPolygon(s.color, c.ClipPolygonY([]vg.Point{
		{X: c.Min.X, Y: c.Min.Y}, {X: c.Min.X, Y: c.Max.Y}, {X: c.Max.X, Y: c.Max.Y}, {X: c.Max.X, Y: c.Min.Y},
	}))
}

func save(p *plot.Plot, w, h vg.Length, path string) error {
	if err := p.Save(w, h, path); err != nil {
		return fmt.Errorf("saving %s: %w", path, err)
	}
	return nil
}

// groupSeries returns the groups in first-seen order and their series.
func groupSeries(series []benchsamples.Series) ([]string, map[string][]benchsamples.Series) {
	var order []string
	by := map[string][]benchsamples.Series{}
	for _, s := range series {
		if _, ok := by[s.Group]; !ok {
			order = append(order, s.Group)
		}
		by[s.Group] = append(by[s.Group], s)
	}
	return order, by
}

func find(series []benchsamples.Series, name string) *benchsamples.Series {
	for i := range series {
		if series[i].Name == name {
			return &series[i]
		}
	}
	return nil
}

func positive(ms []float64) plotter.Values {
	var out plotter.Values
	for _, v := range ms {
		if v > 0 {
			out = append(out, v)
		}
	}
	return out
}

func mean(ms []float64) float64 {
	if len(ms) == 0 {
		return 0
	}
	sum := 0.0
	for _, v := range ms {
		sum += v
	}
	return sum / float64(len(ms))
}

func median(ms []float64) float64 {
	if len(ms) == 0 {
		return 0
	}
	s := append([]float64(nil), ms...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// slug makes a file name of a title.
func slug(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
			dash = false
		case !dash && b.Len() > 0:
			b.WriteByte('-')
			dash = true
		}
	}
	return strings.TrimSuffix(b.String(), "-")
}

func pngPath(dir, pkg, name string) string {
	return filepath.Join(dir, slug(pkg)+"-"+slug(name)+".png")
}
