package printers

import (
	"bytes"
	"fmt"
	"io"
	"strings"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/cli-runtime/pkg/printers"
	"k8s.io/client-go/util/jsonpath"
)

// CustomColumns prints objects as -o custom-columns=HEADER:.json.path,...
// does (kubectl's format, for the objects of this plugin).
func CustomColumns(out io.Writer, spec string, objs []runtime.Object) error {
	type column struct {
		header string
		path   *jsonpath.JSONPath
	}
	var cols []column
	for _, part := range strings.Split(spec, ",") {
		header, expr, ok := strings.Cut(part, ":")
		if !ok || header == "" || expr == "" {
			return fmt.Errorf("custom-columns: %q is not HEADER:.json.path", part)
		}
		expr = strings.TrimSpace(expr)
		if !strings.HasPrefix(expr, "{") {
			expr = "{" + expr + "}"
		}
		p := jsonpath.New(header).AllowMissingKeys(true)
		if err := p.Parse(expr); err != nil {
			return fmt.Errorf("custom-columns: column %s: %v", header, err)
		}
		cols = append(cols, column{header, p})
	}
	w := printers.GetNewTabWriter(out)
	headers := make([]string, len(cols))
	for i, c := range cols {
		headers[i] = c.header
	}
	row(w, headers...)
	for _, obj := range objs {
		u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
		if err != nil {
			return err
		}
		cells := make([]string, len(cols))
		for i, c := range cols {
			var buf bytes.Buffer
			if err := c.path.Execute(&buf, u); err != nil {
				return err
			}
			cells[i] = buf.String()
			if cells[i] == "" {
				cells[i] = "<none>"
			}
		}
		row(w, cells...)
	}
	return w.Flush()
}
