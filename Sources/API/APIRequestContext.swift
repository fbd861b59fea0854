import Hummingbird

/// What a request carries through the router: who sent it and its request id.
public struct APIRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public var principal: Principal = .anonymous
    public var requestID: String = ""

    public init(source: Source) {
        coreContext = .init(source: source)
    }
}
