package cost

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
)

func usd(x float64) string {
	return fmt.Sprintf("$%.2f", x)
}

func signedUSD(x float64) string {
	if x < 0 {
		return fmt.Sprintf("-$%.2f", -x)
	}
	return fmt.Sprintf("+$%.2f", x)
}

func number(x float64) string {
	return strconv.FormatFloat(round(x, 2), 'f', -1, 64)
}

// unitPrice keeps the digits of prices finer than a cent ($0.138 a
// GB-month, $0.004622 a Spot task-hour).
func unitPrice(x float64) string {
	if x < 1 && round(x, 2) != x {
		return "$" + strconv.FormatFloat(round(x, 6), 'f', -1, 64)
	}
	return usd(x)
}

// grouped are the types that come in dozens: alike ones (same component,
// unit, price, detail and tenant) are one row of the table.
var grouped = map[string]bool{
	"aws:cloudwatch/metricAlarm:MetricAlarm":       true,
	"aws:cloudwatch/compositeAlarm:CompositeAlarm": true,
}

type group struct {
	first    Line
	count    int
	quantity float64
	monthly  int64
}

func groupLines(lines []Line) []*group {
	var out []*group
	index := map[string]*group{}
	for i, l := range lines {
		key := strconv.Itoa(i)
		if grouped[l.Type] {
			key = strings.Join([]string{l.Component, l.Type, l.Unit, strconv.FormatFloat(l.UnitPrice, 'g', -1, 64), l.Detail, l.Tenant}, "\x00")
		}
		g, ok := index[key]
		if !ok {
			g = &group{first: l}
			index[key] = g
			out = append(out, g)
		}
		g.count++
		g.quantity += l.Quantity
		g.monthly += cents(l.Monthly)
	}
	return out
}

// WriteTable writes the estimate for people: totals by component, the
// priced lines (alike resources on one row), the tenants, and what is
// priced by usage or not priced at all.
func (e *Estimate) WriteTable(w io.Writer) error {
	fmt.Fprintf(w, "Estimated monthly cost: %s (%s, %g h a month, %s on-demand list prices as of %s)\n",
		usd(e.Monthly), e.Currency, e.HoursPerMonth, e.Region, e.PricesAsOf)
	asleep := e.sleeps()
	if asleep {
		fmt.Fprintf(w, "Always on, without its sleep schedule, it would cost %s: sleeping saves %s.\n",
			usd(e.AlwaysOn), usd(dollars(cents(e.AlwaysOn)-cents(e.Monthly))))
	}
	fmt.Fprintln(w)

	width := len("COMPONENT")
	for _, c := range e.Components {
		width = max(width, len(c.Component))
	}
	// With a schedule, each figure is shown next to its always-on one.
	row := func(name string, monthly, alwaysOn float64) {
		if asleep {
			fmt.Fprintf(w, "%-*s  %10s  %10s\n", width, name, usd(monthly), usd(alwaysOn))
			return
		}
		fmt.Fprintf(w, "%-*s  %10s\n", width, name, usd(monthly))
	}
	if asleep {
		fmt.Fprintf(w, "%-*s  %10s  %10s\n", width, "COMPONENT", "MONTHLY", "ALWAYS ON")
	} else {
		fmt.Fprintf(w, "%-*s  %10s\n", width, "COMPONENT", "MONTHLY")
	}
	for _, c := range e.Components {
		row(c.Component, c.Monthly, c.AlwaysOn)
	}
	row("total", e.Monthly, e.AlwaysOn)

	var priced, usage []Line
	for _, l := range e.Lines {
		if l.Unit == UsageUnit {
			usage = append(usage, l)
		} else {
			priced = append(priced, l)
		}
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "COMPONENT\tTYPE\tNAME\tQUANTITY\tUNIT\tUNIT PRICE\tMONTHLY\tDETAIL")
	for _, g := range groupLines(priced) {
		name := g.first.Name
		if g.count > 1 {
			name = fmt.Sprintf("(%d resources)", g.count)
			if g.first.Tenant != "" {
				name = fmt.Sprintf("(%d resources of %s)", g.count, g.first.Tenant)
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", g.first.Component, g.first.Type, name,
			number(g.quantity), g.first.Unit, unitPrice(g.first.UnitPrice), usd(dollars(g.monthly)), g.first.Detail)
	}
	if err := tw.Flush(); err != nil {
		return err
	}

	if len(e.Tenants) > 0 {
		fmt.Fprintln(w)
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		header := "TENANT\tPLAN\tISOLATION\tOWN\tSHARE\tMONTHLY"
		if asleep {
			header += "\tALWAYS ON"
		}
		fmt.Fprintln(tw, header)
		pool := 0
		for _, t := range e.Tenants {
			share := "-"
			if t.Isolation == Pool {
				share = usd(t.Share)
				pool++
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s", t.ID, t.Plan, t.Isolation, usd(t.Own), share, usd(t.Monthly))
			if asleep {
				fmt.Fprintf(tw, "\t%s", usd(t.AlwaysOn))
			}
			fmt.Fprintln(tw)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		fmt.Fprintln(w, "Own: resources tagged with the tenant. Share: the instance a pool tenant is placed on (the shared")
		fmt.Fprintf(w, "PostgreSQL or a pool) split evenly across its pool tenants (%d in all). The rest of the platform is\nshared by all and attributed to none.\n", pool)
	}

	if len(usage) > 0 {
		fmt.Fprintln(w, "\nPriced by usage, at $0 above (with data transfer, requests and storage growth):")
		counts := map[string]int{}
		what := map[string]string{}
		for _, l := range usage {
			counts[l.Type]++
			what[l.Type] = strings.TrimPrefix(l.Detail, "priced by usage: ")
		}
		for _, t := range slices.Sorted(maps.Keys(counts)) {
			fmt.Fprintf(w, "  %d x %s: %s\n", counts[t], t, what[t])
		}
	}
	if len(e.Unpriced) > 0 {
		fmt.Fprintf(w, "\nNot in the price table, left out of the total (add them to internal/cost/prices.go):\n  %s\n",
			strings.Join(e.Unpriced, "\n  "))
	}
	return nil
}

// sleeps reports whether anything in the plan sleeps on a schedule.
func (e *Estimate) sleeps() bool {
	for _, l := range e.Lines {
		if l.AlwaysOn != 0 {
			return true
		}
	}
	return false
}
