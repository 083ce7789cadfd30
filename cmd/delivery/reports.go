package main

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
)

// previewStep is a step of `pulumi preview --json`.
type previewStep struct {
	Op             string                     `json:"op"`
	URN            string                     `json:"urn"`
	DiffReasons    []string                   `json:"diffReasons"`
	ReplaceReasons []string                   `json:"replaceReasons"`
	DetailedDiff   map[string]json.RawMessage `json:"detailedDiff"`
}

// Operations that leave a resource as the code says.
var noDrift = map[string]bool{"same": true, "read": true, "refresh": true}

// driftReport writes the resources whose cloud state differs from the
// code, from `pulumi preview --refresh --json`: after the refresh, anything
// the preview would create, update, replace or delete has drifted (or was
// never deployed). It returns how many.
func driftReport(w io.Writer, stack string, previewJSON []byte) (int, error) {
	var preview struct {
		Steps []previewStep `json:"steps"`
	}
	if err := json.Unmarshal(previewJSON, &preview); err != nil {
		return 0, fmt.Errorf("reading the preview: %w", err)
	}
	var drifted []previewStep
	for _, s := range preview.Steps {
		if !noDrift[s.Op] {
			drifted = append(drifted, s)
		}
	}
	if len(drifted) == 0 {
		fmt.Fprintf(w, "### Stack %s: no drift\n\nThe cloud matches the code (%d resources checked).\n", stack, len(preview.Steps))
		return 0, nil
	}
	sort.Slice(drifted, func(i, j int) bool { return drifted[i].URN < drifted[j].URN })
	fmt.Fprintf(w, "### Stack %s: %d resources drifted\n\n", stack, len(drifted))
	fmt.Fprintln(w, "| operation to restore the code's state | type | name | properties |")
	fmt.Fprintln(w, "|---|---|---|---|")
	for _, s := range drifted {
		typ, name := urnTypeName(s.URN)
		props := s.ReplaceReasons
		if len(props) == 0 {
			props = s.DiffReasons
		}
		if len(s.DetailedDiff) > 0 {
			props = props[:0:0]
			for k := range s.DetailedDiff {
				props = append(props, k)
			}
			sort.Strings(props)
		}
		fmt.Fprintf(w, "| %s | `%s` | `%s` | %s |\n", s.Op, typ, name, cell(strings.Join(props, ", ")))
	}
	fmt.Fprintln(w, "\n`create`: deleted outside Pulumi; `update`/`replace`: changed outside Pulumi; `delete`: in the state but no longer in the code.")
	fmt.Fprintln(w, "Either undo the change in AWS, or bring it into the code, or accept the code's state with `pulumi up`.")
	return len(drifted), nil
}

// urnTypeName splits urn:pulumi:<stack>::<project>::<parent$...$type>::<name>.
func urnTypeName(urn string) (string, string) {
	parts := strings.Split(urn, "::")
	if len(parts) < 4 {
		return "", urn
	}
	types := parts[2]
	if i := strings.LastIndex(types, "$"); i >= 0 {
		types = types[i+1:]
	}
	return types, strings.Join(parts[3:], "::")
}

func cell(s string) string {
	if s == "" {
		return "-"
	}
	return strings.ReplaceAll(s, "|", `\|`)
}

// severities from the most to the least severe, as ECR names them.
var severities = []string{"CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL", "UNDEFINED"}

// scanFindings is `aws ecr describe-image-scan-findings` (basic scanning).
type scanFindings struct {
	ImageScanStatus struct {
		Status      string `json:"status"`
		Description string `json:"description"`
	} `json:"imageScanStatus"`
	ImageScanFindings struct {
		FindingSeverityCounts map[string]int `json:"findingSeverityCounts"`
		Findings              []struct {
			Name       string `json:"name"`
			Severity   string `json:"severity"`
			URI        string `json:"uri"`
			Attributes []struct {
				Key   string `json:"key"`
				Value string `json:"value"`
			} `json:"attributes"`
		} `json:"findings"`
	} `json:"imageScanFindings"`
}

// scanReport writes one image's scan results (one findings file per
// platform of the image) as Markdown, and returns how many findings are at
// or above failAt (a severity; "" never counts).
func scanReport(w io.Writer, image string, platforms []string, findings [][]byte, failAt string) (int, error) {
	rank := map[string]int{}
	for i, s := range severities {
		rank[s] = i
	}
	limit, ok := rank[strings.ToUpper(failAt)]
	if failAt != "" && !ok {
		return 0, fmt.Errorf("unknown severity %q (one of %s)", failAt, strings.Join(severities, ", "))
	}
	blocking := 0
	fmt.Fprintf(w, "### Scan of %s\n\n", image)
	for i, raw := range findings {
		var f scanFindings
		if err := json.Unmarshal(raw, &f); err != nil {
			return 0, fmt.Errorf("reading the findings of %s: %w", platforms[i], err)
		}
		status := f.ImageScanStatus.Status
		fmt.Fprintf(w, "**%s**: scan %s", platforms[i], strings.ToLower(status))
		if status != "COMPLETE" {
			if d := f.ImageScanStatus.Description; d != "" {
				fmt.Fprintf(w, " (%s)", d)
			}
			fmt.Fprint(w, "\n\n")
			continue
		}
		counts := f.ImageScanFindings.FindingSeverityCounts
		var parts []string
		for _, s := range severities {
			if n := counts[s]; n > 0 {
				parts = append(parts, fmt.Sprintf("%d %s", n, strings.ToLower(s)))
				if failAt != "" && rank[s] <= limit {
					blocking += n
				}
			}
		}
		if len(parts) == 0 {
			fmt.Fprint(w, ": no findings\n\n")
			continue
		}
		fmt.Fprintf(w, ": %s\n\n", strings.Join(parts, ", "))
		list := f.ImageScanFindings.Findings
		sort.SliceStable(list, func(a, b int) bool { return rank[list[a].Severity] < rank[list[b].Severity] })
		fmt.Fprintln(w, "| severity | finding | package |")
		fmt.Fprintln(w, "|---|---|---|")
		for j, finding := range list {
			if j == 10 {
				fmt.Fprintf(w, "| | and %d more | |\n", len(list)-10)
				break
			}
			pkg := ""
			for _, a := range finding.Attributes {
				switch a.Key {
				case "package_name":
					pkg = a.Value + pkg
				case "package_version":
					pkg += " " + a.Value
				}
			}
			name := finding.Name
			if finding.URI != "" {
				name = fmt.Sprintf("[%s](%s)", finding.Name, finding.URI)
			}
			fmt.Fprintf(w, "| %s | %s | %s |\n", strings.ToLower(finding.Severity), cell(name), cell(pkg))
		}
		fmt.Fprintln(w)
	}
	return blocking, nil
}
