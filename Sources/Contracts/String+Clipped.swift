extension String {
    /// At most `limit` characters (what a schema's `maxLength` counts), ending in "…" when cut.
    public func clipped(to limit: Int) -> String {
        count <= limit ? self : String(prefix(Swift.max(0, limit - 1))) + "…"
    }
}
