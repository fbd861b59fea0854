import Contracts
import Foundation

/// A product's claim on its SKU, sent to the SKU's partition (`souk.catalog.sku-claims.v1`).
public struct SkuClaim: Codable, Sendable, Equatable {
    static let type = "souk.catalog.SkuClaim.v1"
    var sku: String
    var productId: String
    var commandId: String
}

/// The SKU owner's answer, sent back to the product's partition (`souk.catalog.sku-decisions.v1`).
public struct SkuDecision: Codable, Sendable, Equatable {
    static let type = "souk.catalog.SkuDecision.v1"
    var sku: String
    var productId: String
    var commandId: String
    /// The product that owns the SKU: the claimant when granted.
    var owner: String
    var granted: Bool { owner == productId }
}

/// What the catalog role consumes.
public enum CatalogInput: Sendable, Equatable {
    case create(CreateProduct)
    case update(UpdateProduct)
    case delete(DeleteProduct)
    case setPrice(SetProductPrice)
    case claim(SkuClaim)
    case decision(SkuDecision)
}

/// A product as the catalog keeps it.
public struct ProductRecord: Codable, Sendable, Equatable {
    public var productId: String
    public var sku: String
    public var name: String
    public var description: String?
    public var category: String?
    public var price: Money
    public var weightGrams: Int?
    public var attributes: [String: String]
    public var deleted: Bool
}

/// The catalog role's state for one key: a product (`product:<id>`) or a SKU's owner (`sku:<sku>`).
public struct CatalogState: Codable, Sendable, Equatable {
    public var product: ProductRecord?
    /// A CreateProduct waiting for its SKU claim to be decided.
    var pending: PendingCreate?
    public var skuOwner: String?

    struct PendingCreate: Codable, Sendable, Equatable {
        var commandId: String
        var command: CreateProduct
    }
}
