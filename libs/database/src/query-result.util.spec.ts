import { returnedRows } from './query-result.util';

describe('returnedRows', () => {
  it('unwraps the [rows, rowCount] answer of UPDATE … RETURNING', () => {
    expect(returnedRows([[{ id: 1 }], 1])).toEqual([{ id: 1 }]);
    expect(returnedRows([[], 0])).toEqual([]);
  });

  it('keeps the rows answer of SELECT and INSERT', () => {
    expect(returnedRows([{ id: 1 }, { id: 2 }])).toEqual([{ id: 1 }, { id: 2 }]);
    expect(returnedRows([])).toEqual([]);
  });
});
