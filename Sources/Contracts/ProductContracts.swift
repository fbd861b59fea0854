import Foundation

// MARK: - Commands

public struct CreateProduct: TopicMessage {
    public static let context = BoundedContext.product
    public static let name = "CreateProduct"
    public static let kind = MessageKind.command
    public static let summary = "Adds a product to the catalog. Rejected if the product id or the SKU is taken."

    public var productId: String
    public var sku: String
    public var name: String
    public var description: String?
    public var category: String?
    public var price: Money
    public var weightGrams: Int?
    public var attributes: [String: String]?

    public init(
        productId: String,
        sku: String,
        name: String,
        description: String? = nil,
        category: String? = nil,
        price: Money,
        weightGrams: Int? = nil,
        attributes: [String: String]? = nil
    ) {
        self.productId = productId
        self.sku = sku
        self.name = name
        self.description = description
        self.category = category
        self.price = price
        self.weightGrams = weightGrams
        self.attributes = attributes
    }

    public var key: String { productId }

    public static let schema = Schema.object([
        .init("productId", .id()), .init("sku", .id()), .init("name", .text(max: 200, min: 1)),
        .init("description", .text(max: 5000), required: false), .init("category", .text(max: 100), required: false),
        .init("price", .money), .init("weightGrams", .integer(minimum: 0, maximum: 1_000_000_000), required: false),
        .init("attributes", .dictionary(.text(max: 500)), required: false),
    ])
    public static let example = CreateProduct(
        productId: "prod-1", sku: "TEA-OOLONG-100", name: "Oolong tea 100 g", description: "Roasted oolong from Moc Chau",
        category: "tea", price: Money(125_000, "VND"), weightGrams: 120, attributes: ["origin": "VN"]
    )
}

public struct UpdateProduct: TopicMessage {
    public static let context = BoundedContext.product
    public static let name = "UpdateProduct"
    public static let kind = MessageKind.command
    public static let summary = "Changes a product's descriptive fields; absent fields stay as they are."

    public var productId: String
    public var name: String?
    public var description: String?
    public var category: String?
    public var weightGrams: Int?
    public var attributes: [String: String]?

    public init(
        productId: String,
        name: String? = nil,
        description: String? = nil,
        category: String? = nil,
        weightGrams: Int? = nil,
        attributes: [String: String]? = nil
    ) {
        self.productId = productId
        self.name = name
        self.description = description
        self.category = category
        self.weightGrams = weightGrams
        self.attributes = attributes
    }

    public var key: String { productId }

    public static let schema = Schema.object([
        .init("productId", .id()), .init("name", .text(max: 200, min: 1), required: false),
        .init("description", .text(max: 5000), required: false), .init("category", .text(max: 100), required: false),
        .init("weightGrams", .integer(minimum: 0, maximum: 1_000_000_000), required: false),
        .init("attributes", .dictionary(.text(max: 500)), required: false),
    ])
    public static let example = UpdateProduct(productId: "prod-1", name: "Oolong tea 100 g (2026 harvest)")
}

public struct DeleteProduct: TopicMessage {
    public static let context = BoundedContext.product
    public static let name = "DeleteProduct"
    public static let kind = MessageKind.command
    public static let summary = "Removes a product from sale; a deleted product cannot be ordered."

    public var productId: String
    public init(productId: String) {
        self.productId = productId
    }

    public var key: String { productId }

    public static let schema = Schema.object([.init("productId", .id())])
    public static let example = DeleteProduct(productId: "prod-1")
}

public struct SetProductPrice: TopicMessage {
    public static let context = BoundedContext.product
    public static let name = "SetProductPrice"
    public static let kind = MessageKind.command
    public static let summary = "Sets a product's price (integer minor units; never negative)."

    public var productId: String
    public var price: Money
    public init(productId: String, price: Money) {
        self.productId = productId
        self.price = price
    }

    public var key: String { productId }

    public static let schema = Schema.object([.init("productId", .id()), .init("price", .money)])
    public static let example = SetProductPrice(productId: "prod-1", price: Money(119_000, "VND"))
}

// MARK: - Events

public struct ProductCreated: TopicMessage {
    public static let context = BoundedContext.product
    public static let name = "ProductCreated"
    public static let kind = MessageKind.event
    public static let summary = "A product joined the catalog."

    public var productId: String
    public var sku: String
    public var name: String
    public var description: String?
    public var category: String?
    public var price: Money
    public var weightGrams: Int?
    public var attributes: [String: String]
    public var createdAt: Date

    public init(
        productId: String,
        sku: String,
        name: String,
        description: String? = nil,
        category: String? = nil,
        price: Money,
        weightGrams: Int? = nil,
        attributes: [String: String],
        createdAt: Date
    ) {
        self.productId = productId
        self.sku = sku
        self.name = name
        self.description = description
        self.category = category
        self.price = price
        self.weightGrams = weightGrams
        self.attributes = attributes
        self.createdAt = createdAt
    }

    public var key: String { productId }

    public static let schema = Schema.object([
        .init("productId", .id()), .init("sku", .id()), .init("name", .text(max: 200, min: 1)),
        .init("description", .text(max: 5000), required: false), .init("category", .text(max: 100), required: false),
        .init("price", .money), .init("weightGrams", .integer(minimum: 0, maximum: 1_000_000_000), required: false),
        .init("attributes", .dictionary(.text(max: 500))), .init("createdAt", .timestamp),
    ])
    public static let example = ProductCreated(
        productId: "prod-1", sku: "TEA-OOLONG-100", name: "Oolong tea 100 g", description: "Roasted oolong from Moc Chau",
        category: "tea", price: Money(125_000, "VND"), weightGrams: 120, attributes: ["origin": "VN"],
        createdAt: Date(timeIntervalSince1970: 1_795_000_000)
    )
}

public struct ProductUpdated: TopicMessage {
    public static let context = BoundedContext.product
    public static let name = "ProductUpdated"
    public static let kind = MessageKind.event
    public static let summary = "A product's descriptive fields changed; carries the product's full description after the change."

    public var productId: String
    public var name: String
    public var description: String?
    public var category: String?
    public var weightGrams: Int?
    public var attributes: [String: String]
    public var updatedAt: Date

    public init(
        productId: String,
        name: String,
        description: String? = nil,
        category: String? = nil,
        weightGrams: Int? = nil,
        attributes: [String: String],
        updatedAt: Date
    ) {
        self.productId = productId
        self.name = name
        self.description = description
        self.category = category
        self.weightGrams = weightGrams
        self.attributes = attributes
        self.updatedAt = updatedAt
    }

    public var key: String { productId }

    public static let schema = Schema.object([
        .init("productId", .id()), .init("name", .text(max: 200, min: 1)), .init("description", .text(max: 5000), required: false),
        .init("category", .text(max: 100), required: false), .init("weightGrams", .integer(minimum: 0, maximum: 1_000_000_000), required: false),
        .init("attributes", .dictionary(.text(max: 500))), .init("updatedAt", .timestamp),
    ])
    public static let example = ProductUpdated(
        productId: "prod-1", name: "Oolong tea 100 g (2026 harvest)", description: "Roasted oolong from Moc Chau", category: "tea",
        weightGrams: 120, attributes: ["origin": "VN"], updatedAt: Date(timeIntervalSince1970: 1_795_000_100)
    )
}

public struct ProductDeleted: TopicMessage {
    public static let context = BoundedContext.product
    public static let name = "ProductDeleted"
    public static let kind = MessageKind.event
    public static let summary = "A product left the catalog."

    public var productId: String
    public var sku: String
    public var deletedAt: Date
    public init(productId: String, sku: String, deletedAt: Date) {
        self.productId = productId
        self.sku = sku
        self.deletedAt = deletedAt
    }

    public var key: String { productId }

    public static let schema = Schema.object([.init("productId", .id()), .init("sku", .id()), .init("deletedAt", .timestamp)])
    public static let example = ProductDeleted(productId: "prod-1", sku: "TEA-OOLONG-100", deletedAt: Date(timeIntervalSince1970: 1_795_000_200))
}

public struct PriceChanged: TopicMessage {
    public static let context = BoundedContext.product
    public static let name = "PriceChanged"
    public static let kind = MessageKind.event
    public static let summary = "A product's price changed."

    public var productId: String
    public var sku: String
    public var oldPrice: Money
    public var newPrice: Money
    public var changedAt: Date
    public init(productId: String, sku: String, oldPrice: Money, newPrice: Money, changedAt: Date) {
        self.productId = productId
        self.sku = sku
        self.oldPrice = oldPrice
        self.newPrice = newPrice
        self.changedAt = changedAt
    }

    public var key: String { productId }

    public static let schema = Schema.object([
        .init("productId", .id()), .init("sku", .id()), .init("oldPrice", .money), .init("newPrice", .money), .init("changedAt", .timestamp),
    ])
    public static let example = PriceChanged(
        productId: "prod-1", sku: "TEA-OOLONG-100", oldPrice: Money(125_000, "VND"), newPrice: Money(119_000, "VND"),
        changedAt: Date(timeIntervalSince1970: 1_795_000_300)
    )
}

// MARK: - Queries

public struct GetProduct: Contract {
    public static let context = BoundedContext.product
    public static let name = "GetProduct"
    public static let kind = MessageKind.query
    public static let summary = "One product by id (GET /api/products/:id)."
    public var productId: String
    public init(productId: String) {
        self.productId = productId
    }

    public static let schema = Schema.object([.init("productId", .id())])
    public static let example = GetProduct(productId: "prod-1")
}

public struct ListProducts: Contract {
    public static let context = BoundedContext.product
    public static let name = "ListProducts"
    public static let kind = MessageKind.query
    public static let summary = "Products by category and price range, sorted, a page at a time (GET /api/products)."
    public var category: String?
    public var minPriceMinor: Int?
    public var maxPriceMinor: Int?
    public var sort: String?
    public var cursor: String?
    public var limit: Int?
    public init(
        category: String? = nil,
        minPriceMinor: Int? = nil,
        maxPriceMinor: Int? = nil,
        sort: String? = nil,
        cursor: String? = nil,
        limit: Int? = nil
    ) {
        self.category = category
        self.minPriceMinor = minPriceMinor
        self.maxPriceMinor = maxPriceMinor
        self.sort = sort
        self.cursor = cursor
        self.limit = limit
    }

    public static let schema = Schema.object([
        .init("category", .text(max: 100), required: false), .init("minPriceMinor", .integer(minimum: 0), required: false),
        .init("maxPriceMinor", .integer(minimum: 0), required: false),
        .init("sort", .oneOf(["name", "-name", "price", "-price", "created", "-created"]), required: false),
        .init("cursor", .text(max: 500), required: false), .init("limit", .integer(minimum: 1, maximum: 100), required: false),
    ])
    public static let example = ListProducts(category: "tea", minPriceMinor: nil, maxPriceMinor: 200_000, sort: "price", cursor: nil, limit: 20)
}

public struct SearchProducts: Contract {
    public static let context = BoundedContext.product
    public static let name = "SearchProducts"
    public static let kind = MessageKind.query
    public static let summary = "Full-text search over products, tolerant of typos (GET /api/products/search?q=)."
    public var q: String
    public var limit: Int?
    public init(q: String, limit: Int? = nil) {
        self.q = q
        self.limit = limit
    }

    public static let schema = Schema.object([.init("q", .text(max: 200, min: 1)), .init("limit", .integer(minimum: 1, maximum: 100), required: false)])
    public static let example = SearchProducts(q: "olong tea", limit: 10)
}

public struct GetInventoryLevel: Contract {
    public static let context = BoundedContext.inventory
    public static let name = "GetInventoryLevel"
    public static let kind = MessageKind.query
    public static let summary = "Stock of one SKU: available, reserved, sold."
    public var sku: String
    public init(sku: String) {
        self.sku = sku
    }

    public static let schema = Schema.object([.init("sku", .id())])
    public static let example = GetInventoryLevel(sku: "TEA-OOLONG-100")
}

// MARK: - Inventory

public struct UpdateInventory: TopicMessage {
    public static let context = BoundedContext.inventory
    public static let name = "UpdateInventory"
    public static let kind = MessageKind.command
    public static let summary = "Sets a SKU's stock on hand (`set`) or changes it by a signed amount (`adjust`)."

    public var sku: String
    public var mode: String
    public var quantity: Int
    public init(sku: String, mode: String, quantity: Int) {
        self.sku = sku
        self.mode = mode
        self.quantity = quantity
    }

    public var key: String { sku }

    public static let schema = Schema.object([
        .init("sku", .id()), .init("mode", .oneOf(["set", "adjust"])), .init("quantity", .integer(minimum: -1_000_000, maximum: 1_000_000)),
    ])
    public static let example = UpdateInventory(sku: "TEA-OOLONG-100", mode: "set", quantity: 40)
}

public struct InventoryUpdated: TopicMessage {
    public static let context = BoundedContext.inventory
    public static let name = "InventoryUpdated"
    public static let kind = MessageKind.event
    public static let summary = "A SKU's stock changed; available + reserved + sold always equals what was stocked."

    public var sku: String
    public var available: Int
    public var reserved: Int
    public var sold: Int
    public var updatedAt: Date
    public init(sku: String, available: Int, reserved: Int, sold: Int, updatedAt: Date) {
        self.sku = sku
        self.available = available
        self.reserved = reserved
        self.sold = sold
        self.updatedAt = updatedAt
    }

    public var key: String { sku }

    public static let schema = Schema.object([
        .init("sku", .id()), .init("available", .integer(minimum: 0)), .init("reserved", .integer(minimum: 0)),
        .init("sold", .integer(minimum: 0)), .init("updatedAt", .timestamp),
    ])
    public static let example = InventoryUpdated(sku: "TEA-OOLONG-100", available: 40, reserved: 0, sold: 0, updatedAt: Date(timeIntervalSince1970: 1_795_000_400))
}
