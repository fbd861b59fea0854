/// The coding path of a value, built only when asked for: encoders and decoders keep their parent
/// and key instead of an array per value.
enum CodingPath {
    static func walk<Node: AnyObject>(from node: Node, parent: (Node) -> Node?, key: (Node) -> (any CodingKey)?) -> [any CodingKey] {
        var path: [any CodingKey] = []
        var current: Node? = node
        while let visited = current {
            if let key = key(visited) { path.append(key) }
            current = parent(visited)
        }
        return path.reversed()
    }
}

/// The coding key of an array element.
struct IndexKey: CodingKey {
    let intValue: Int?
    var stringValue: String { "Index \(intValue ?? 0)" }
    init(intValue: Int) { self.intValue = intValue }
    init?(stringValue: String) { nil }
}
