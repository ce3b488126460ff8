package catalog

import (
	"context"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// tableFunc prints objects or lists with fixed columns and a cell function.
type tableFunc struct {
	columns []metav1.TableColumnDefinition
	cells   func(runtime.Object) ([]interface{}, error)
}

func (t tableFunc) ConvertToTable(_ context.Context, obj runtime.Object, _ runtime.Object) (*metav1.Table, error) {
	table := &metav1.Table{ColumnDefinitions: t.columns}
	add := func(o runtime.Object) error {
		cells, err := t.cells(o)
		if err != nil {
			return err
		}
		table.Rows = append(table.Rows, metav1.TableRow{Cells: cells, Object: runtime.RawExtension{Object: o}})
		return nil
	}
	var err error
	if meta.IsListType(obj) {
		err = meta.EachListItem(obj, add)
	} else {
		err = add(obj)
	}
	if err != nil {
		return nil, err
	}
	return table, nil
}
