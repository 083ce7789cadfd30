package cost

import (
	"fmt"
	"strconv"
	"strings"
)

// daysPerMonth matches HoursPerMonth.
const daysPerMonth = HoursPerMonth / 24

// RunsPerMonth counts how often an EventBridge schedule fires in a 730-hour
// month: rate(5 minutes), or cron(minutes hours day-of-month month
// day-of-week year). Days named by day of week count 4.35 times a month,
// days of month once; L, W and # count as one day.
func RunsPerMonth(expr string) (float64, error) {
	expr = strings.TrimSpace(expr)
	switch {
	case strings.HasPrefix(expr, "rate(") && strings.HasSuffix(expr, ")"):
		return ratePerMonth(expr, expr[len("rate("):len(expr)-1])
	case strings.HasPrefix(expr, "cron(") && strings.HasSuffix(expr, ")"):
		return cronPerMonth(expr, expr[len("cron("):len(expr)-1])
	case strings.HasPrefix(expr, "at("):
		return 0, nil // once, not monthly
	}
	return 0, fmt.Errorf("schedule %q: expected rate(...) or cron(...)", expr)
}

func ratePerMonth(expr, body string) (float64, error) {
	fields := strings.Fields(body)
	if len(fields) != 2 {
		return 0, fmt.Errorf("schedule %q: expected rate(<value> <unit>)", expr)
	}
	value, err := strconv.ParseFloat(fields[0], 64)
	if err != nil || value <= 0 {
		return 0, fmt.Errorf("schedule %q: %q is not a positive number", expr, fields[0])
	}
	minutes := map[string]float64{"minute": 1, "minutes": 1, "hour": 60, "hours": 60, "day": 1440, "days": 1440}[fields[1]]
	if minutes == 0 {
		return 0, fmt.Errorf("schedule %q: unit %q is not minutes, hours or days", expr, fields[1])
	}
	return HoursPerMonth * 60 / (value * minutes), nil
}

func cronPerMonth(expr, body string) (float64, error) {
	fields := strings.Fields(body)
	if len(fields) != 6 {
		return 0, fmt.Errorf("schedule %q: a cron expression has 6 fields", expr)
	}
	counts := make([]float64, 5)
	limits := []struct{ lo, hi int }{{0, 59}, {0, 23}, {1, 31}, {1, 12}, {1, 7}}
	for i := range counts {
		n, err := countField(fields[i], limits[i].lo, limits[i].hi)
		if err != nil {
			return 0, fmt.Errorf("schedule %q: field %d: %w", expr, i+1, err)
		}
		counts[i] = n
	}
	perDay := counts[0] * counts[1]
	days := daysPerMonth
	switch dom, dow := fields[2], fields[4]; {
	case !isAny(dom):
		days = counts[2]
	case !isAny(dow):
		days = counts[4] * daysPerMonth / 7
	}
	if !isAny(fields[3]) {
		days *= counts[3] / 12
	}
	return perDay * days, nil
}

func isAny(field string) bool { return field == "*" || field == "?" }

var names = map[string]int{
	"JAN": 1, "FEB": 2, "MAR": 3, "APR": 4, "MAY": 5, "JUN": 6,
	"JUL": 7, "AUG": 8, "SEP": 9, "OCT": 10, "NOV": 11, "DEC": 12,
	"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7,
}

func value(s string) (int, error) {
	if n, ok := names[strings.ToUpper(s)]; ok {
		return n, nil
	}
	return strconv.Atoi(s)
}

// countField counts the values a cron field selects between lo and hi.
func countField(field string, lo, hi int) (float64, error) {
	if isAny(field) {
		return float64(hi - lo + 1), nil
	}
	var total float64
	for _, item := range strings.Split(field, ",") {
		if strings.ContainsAny(item, "LW#") {
			total++ // last day, nearest weekday, nth weekday: one day
			continue
		}
		from, to, step := lo, hi, 1
		rangePart, stepped := item, false
		if i := strings.Index(item, "/"); i >= 0 {
			stepped = true
			s, err := strconv.Atoi(item[i+1:])
			if err != nil || s <= 0 {
				return 0, fmt.Errorf("%q: bad step", item)
			}
			step, rangePart = s, item[:i]
		}
		switch {
		case rangePart == "*":
		case strings.Contains(rangePart, "-"):
			bounds := strings.SplitN(rangePart, "-", 2)
			a, err := value(bounds[0])
			if err != nil {
				return 0, fmt.Errorf("%q: %w", item, err)
			}
			b, err := value(bounds[1])
			if err != nil {
				return 0, fmt.Errorf("%q: %w", item, err)
			}
			from, to = a, b
		default:
			a, err := value(rangePart)
			if err != nil {
				return 0, fmt.Errorf("%q: %w", item, err)
			}
			from = a
			if !stepped {
				to = a // a single value; "a/step" runs from a to the end
			}
		}
		if from < lo || to > hi || from > to {
			return 0, fmt.Errorf("%q: outside %d-%d", item, lo, hi)
		}
		total += float64((to-from)/step + 1)
	}
	return total, nil
}
