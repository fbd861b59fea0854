/// A query's result in text form: column names and rows of optional strings (`nil` is SQL NULL).
public struct PostgresRows: Sendable, Equatable {
    public var columns: [String]
    public var rows: [[String?]]
    /// For INSERT/UPDATE/DELETE: how many rows the statement touched.
    public var affected: Int

    public var count: Int { rows.count }
    public var isEmpty: Bool { rows.isEmpty }

    public subscript(row: Int, column: String) -> String? {
        guard let index = columns.firstIndex(of: column) else { return nil }
        return rows[row][index]
    }

    /// Each row as a column → value dictionary.
    public var records: [[String: String?]] {
        rows.map { row in Dictionary(uniqueKeysWithValues: zip(columns, row)) }
    }
}
