package cost

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"strings"
)

// Change is one line that differs between two estimates; Before or After is
// nil when the line is only in the other.
type Change struct {
	Before *Line   `json:"before,omitempty"`
	After  *Line   `json:"after,omitempty"`
	Delta  float64 `json:"delta"`
}

// line is whichever side exists, for the line's identity.
func (c Change) line() Line {
	if c.After != nil {
		return *c.After
	}
	if c.Before != nil {
		return *c.Before
	}
	return Line{}
}

// TenantChange is a tenant whose monthly figure differs.
type TenantChange struct {
	ID     string      `json:"id"`
	Before *TenantCost `json:"before,omitempty"`
	After  *TenantCost `json:"after,omitempty"`
	Delta  float64     `json:"delta"`
}

// Diff is what changes in the monthly cost from one plan to another (main
// to a pull request).
type Diff struct {
	Before float64 `json:"before"`
	After  float64 `json:"after"`
	Delta  float64 `json:"delta"`
	// AlwaysOnBefore and AlwaysOnAfter are the same plans' figures if
	// nothing slept: a schedule added or changed shows as their gap.
	AlwaysOnBefore float64        `json:"alwaysOnBefore"`
	AlwaysOnAfter  float64        `json:"alwaysOnAfter"`
	Changes        []Change       `json:"changes"`
	Tenants        []TenantChange `json:"tenants"`
	// Unpriced are the types the newer plan holds that the table lacks.
	Unpriced []string `json:"unpriced,omitempty"`
}

func lineKey(l Line) string {
	return l.Type + "\x00" + l.Name + "\x00" + l.Unit
}

// Compare returns the difference from before to after; a nil before is an
// empty plan (a stack the base branch does not have).
func Compare(before, after *Estimate) Diff {
	if before == nil {
		before = &Estimate{}
	}
	if after == nil {
		after = &Estimate{}
	}
	d := Diff{
		Before: before.Monthly,
		After:  after.Monthly,
		Delta:  dollars(cents(after.Monthly) - cents(before.Monthly)),

		AlwaysOnBefore: before.AlwaysOn,
		AlwaysOnAfter:  after.AlwaysOn,
		Changes:        []Change{},
		Tenants:        []TenantChange{},
		Unpriced:       after.Unpriced,
	}
	old := map[string]*Line{}
	for i := range before.Lines {
		old[lineKey(before.Lines[i])] = &before.Lines[i]
	}
	seen := map[string]bool{}
	for i := range after.Lines {
		a := &after.Lines[i]
		key := lineKey(*a)
		seen[key] = true
		b := old[key]
		switch {
		case b == nil:
			d.Changes = append(d.Changes, Change{After: a, Delta: a.Monthly})
		case b.Quantity != a.Quantity || b.UnitPrice != a.UnitPrice || b.Monthly != a.Monthly || b.Detail != a.Detail:
			d.Changes = append(d.Changes, Change{Before: b, After: a, Delta: dollars(cents(a.Monthly) - cents(b.Monthly))})
		}
	}
	for i := range before.Lines {
		b := &before.Lines[i]
		if !seen[lineKey(*b)] {
			d.Changes = append(d.Changes, Change{Before: b, Delta: -b.Monthly})
		}
	}
	sort.SliceStable(d.Changes, func(i, j int) bool {
		a, b := d.Changes[i].line(), d.Changes[j].line()
		if a.Component != b.Component {
			return lessComponent(a.Component, b.Component)
		}
		return lineKey(a) < lineKey(b)
	})

	oldTenants := map[string]*TenantCost{}
	for i := range before.Tenants {
		oldTenants[before.Tenants[i].ID] = &before.Tenants[i]
	}
	newTenants := map[string]*TenantCost{}
	for i := range after.Tenants {
		newTenants[after.Tenants[i].ID] = &after.Tenants[i]
	}
	all := maps.Clone(oldTenants)
	maps.Copy(all, newTenants)
	for _, id := range slices.Sorted(maps.Keys(all)) {
		b, a := oldTenants[id], newTenants[id]
		var bm, am float64
		if b != nil {
			bm = b.Monthly
		}
		if a != nil {
			am = a.Monthly
		}
		if b != nil && a != nil && *b == *a {
			continue
		}
		d.Tenants = append(d.Tenants, TenantChange{ID: id, Before: b, After: a, Delta: dollars(cents(am) - cents(bm))})
	}
	return d
}

// maxRows keeps a pull-request comment well under GitHub's size limit.
const maxRows = 60

// WriteMarkdown writes the difference for a job summary or a pull-request
// comment: the totals, the lines that changed and the tenants whose figure
// moved. title names the stack.
func (d Diff) WriteMarkdown(w io.Writer, title string) error {
	var b strings.Builder
	if d.Delta == 0 && len(d.Changes) == 0 {
		fmt.Fprintf(&b, "#### %s: %s a month, unchanged\n", title, usd(d.After))
	} else {
		fmt.Fprintf(&b, "#### %s: %s → %s a month (%s%s)\n", title, usd(d.Before), usd(d.After), signedUSD(d.Delta), percent(d.Before, d.Delta))
	}
	if d.AlwaysOnBefore != d.Before || d.AlwaysOnAfter != d.After {
		fmt.Fprintf(&b, "\nAlways on (no sleep schedule): %s → %s a month.\n", usd(d.AlwaysOnBefore), usd(d.AlwaysOnAfter))
	}
	if len(d.Changes) > 0 {
		b.WriteString("\n| | component | resource | item | before | after | difference |\n|---|---|---|---|--:|--:|--:|\n")
		for i, c := range d.Changes {
			if i == maxRows {
				fmt.Fprintf(&b, "\n… and %d more changed lines: see the JSON plans in the job's artifacts.\n", len(d.Changes)-maxRows)
				break
			}
			l := c.line()
			mark, before, after := "changed", "", ""
			switch {
			case c.Before == nil:
				mark = "added"
			case c.After == nil:
				mark = "removed"
			}
			if c.Before != nil {
				before = cell(*c.Before)
			}
			if c.After != nil {
				after = cell(*c.After)
			}
			fmt.Fprintf(&b, "| %s | %s | `%s` %s | %s | %s | %s | %s |\n", mark, l.Component, l.Type, escape(l.Name),
				escape(l.Unit), before, after, signedUSD(c.Delta))
		}
	}
	if len(d.Tenants) > 0 {
		b.WriteString("\n| tenant | before | after | difference |\n|---|---|---|--:|\n")
		for _, t := range d.Tenants {
			fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", escape(t.ID), tenantCell(t.Before), tenantCell(t.After), signedUSD(t.Delta))
		}
	}
	if len(d.Unpriced) > 0 {
		fmt.Fprintf(&b, "\n**Not in the price table, left out of the total:** `%s`. Add them to `internal/cost/prices.go`.\n",
			strings.Join(d.Unpriced, "`, `"))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func percent(before, delta float64) string {
	if before == 0 {
		return ""
	}
	return fmt.Sprintf(", %+.1f %%", 100*delta/before)
}

// cell shows a line's side: "1 x $18.25 = $18.25 (db.t4g.micro, ...)".
func cell(l Line) string {
	if l.Unit == UsageUnit {
		return "usage"
	}
	s := fmt.Sprintf("%s × %s = %s", number(l.Quantity), unitPrice(l.UnitPrice), usd(l.Monthly))
	if l.Detail != "" {
		s += "<br>" + escape(l.Detail)
	}
	return s
}

func tenantCell(t *TenantCost) string {
	if t == nil {
		return ""
	}
	return fmt.Sprintf("%s (%s, %s)", usd(t.Monthly), escape(t.Plan), t.Isolation)
}

func escape(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ").Replace(s)
}
