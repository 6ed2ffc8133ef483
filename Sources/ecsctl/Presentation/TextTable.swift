/// A plain-text table with aligned columns, as ecsctl prints by default.
///
/// Columns are separated by two spaces; the last column is not padded, so lines carry no trailing blanks.
struct TextTable: Hashable, Sendable {
    var headers: [String]
    var rows: [[String]]

    init(headers: [String], rows: [[String]] = []) {
        self.headers = headers
        self.rows = rows
    }

    mutating func append(_ row: [String]) { rows.append(row) }

    /// The table as lines of text, ending with a newline; just the headers when there are no rows.
    func render() -> String {
        let all =
            [headers]
            + rows.map { row in
                (0..<headers.count).map { $0 < row.count ? Self.oneLine(row[$0]) : "" }
            }
        var widths = headers.map(\.count)
        for row in all {
            for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) }
        }
        var text = ""
        for row in all {
            var line = ""
            for (index, cell) in row.enumerated() {
                if index == row.count - 1 {
                    line += cell
                } else {
                    line += cell + String(repeating: " ", count: widths[index] - cell.count + 2)
                }
            }
            while line.last == " " { line.removeLast() }
            text += line + "\n"
        }
        return text
    }

    private static func oneLine(_ cell: String) -> String {
        cell.contains(where: \.isNewline) ? cell.split(whereSeparator: \.isNewline).joined(separator: " ") : cell
    }
}
