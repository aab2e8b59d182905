//! Counts, sums, averages, min/max, top-N, lists and groupings.

use super::*;

// ── words ──

#[test]
fn singular_forms() {
    for (p, s) in [
        ("customers", "customer"),
        ("categories", "category"),
        ("sales", "sale"),
        ("addresses", "address"),
        ("status", "status"),
        ("statuses", "status"),
        ("boxes", "box"),
        ("order", "order"),
        ("people", "person"),
    ] {
        assert_eq!(singular(p), s, "{p}");
    }
}

#[test]
fn table_words() {
    assert_eq!(table_core("dim_customer"), ["customer"]);
    assert_eq!(table_core("fact_sales"), ["sale"]);
    assert_eq!(table_core("order_items"), ["order", "item"]);
    assert_eq!(table_core("tblOrderItems"), ["order", "item"]);
    assert_eq!(table_core("sales.fact_orders"), ["order"]);
    assert_eq!(name_tokens("customerID"), ["customer", "id"]);
    assert_eq!(name_tokens("HTTPServer"), ["http", "server"]);
}

// ── counts ──

#[test]
fn count_customers() {
    let expected = both(
        "SELECT count(*) AS customers FROM customers",
        "SELECT count(*) AS customers FROM dim_customer",
    );
    assert_eq!(ask("how many customers are there?"), expected);
    assert_eq!(ask("How many customers do we have?"), expected);
    assert_eq!(ask("number of customers"), expected);
    assert_eq!(ask("Count customers, please"), expected);
    assert_eq!(ask("what is the total number of customers?"), expected);
    assert_eq!(ask("total customers"), expected);
}

#[test]
fn count_orders_prefers_exact_subject() {
    assert_eq!(
        ask("how many orders"),
        shop_only("SELECT count(*) AS orders FROM orders")
    );
    assert_eq!(
        ask("number of orders"),
        shop_only("SELECT count(*) AS orders FROM orders")
    );
}

#[test]
fn synonyms_only_when_no_exact_match() {
    assert_eq!(
        ask_in("how many orders", &[warehouse()]),
        warehouse_only("SELECT count(*) AS orders FROM fact_sales")
    );
    assert_eq!(
        ask("how many sales"),
        warehouse_only("SELECT count(*) AS sales FROM fact_sales")
    );
    assert_eq!(
        ask("how many clients"),
        both(
            "SELECT count(*) AS clients FROM customers",
            "SELECT count(*) AS clients FROM dim_customer"
        )
    );
}

#[test]
fn count_products_and_compound_names() {
    assert_eq!(
        ask("count products"),
        both(
            "SELECT count(*) AS products FROM products",
            "SELECT count(*) AS products FROM dim_product"
        )
    );
    assert_eq!(
        ask("how many order items are there"),
        shop_only("SELECT count(*) AS order_items FROM order_items")
    );
}

// ── sums ──

#[test]
fn total_revenue() {
    let expected = both(
        "SELECT sum(total_amount) AS total_revenue FROM orders",
        "SELECT sum(revenue) AS total_revenue FROM fact_sales",
    );
    assert_eq!(ask("total revenue"), expected);
    assert_eq!(ask("What is the total revenue?"), expected);
    assert_eq!(ask("sum of revenue"), expected);
}

#[test]
fn total_sales() {
    assert_eq!(
        ask("what is the total sales"),
        both(
            "SELECT sum(total_amount) AS total_sales FROM orders",
            "SELECT sum(revenue) AS total_sales FROM fact_sales"
        )
    );
    assert_eq!(
        ask("how much revenue did we make"),
        both(
            "SELECT sum(total_amount) AS total_revenue FROM orders",
            "SELECT sum(revenue) AS total_revenue FROM fact_sales"
        )
    );
}

#[test]
fn sum_of_order_amounts() {
    assert_eq!(
        ask("sum of order amounts"),
        shop_only("SELECT sum(total_amount) AS total_order_amount FROM orders")
    );
}

#[test]
fn total_stock() {
    assert_eq!(
        ask("total stock of products"),
        shop_only("SELECT sum(stock) AS total_stock FROM products")
    );
}

// ── averages ──

#[test]
fn average_price() {
    let expected = both(
        "SELECT avg(price) AS avg_price FROM products",
        "SELECT avg(list_price) AS avg_price FROM dim_product",
    );
    assert_eq!(ask("average price of products"), expected);
    assert_eq!(ask("what's the avg price of the products?"), expected);
    assert_eq!(
        ask("mean product price"),
        both(
            "SELECT avg(price) AS avg_product_price FROM products",
            "SELECT avg(list_price) AS avg_product_price FROM dim_product",
        )
    );
}

#[test]
fn average_order_value() {
    assert_eq!(
        ask("average order value"),
        shop_only("SELECT avg(total_amount) AS avg_order_value FROM orders")
    );
    assert_eq!(
        ask_in("average order value", &[warehouse()]),
        warehouse_only("SELECT avg(revenue) AS avg_order_value FROM fact_sales")
    );
}

#[test]
fn average_quantity() {
    assert_eq!(
        ask("average quantity"),
        both(
            "SELECT avg(quantity) AS avg_quantity FROM order_items",
            "SELECT avg(quantity) AS avg_quantity FROM fact_sales"
        )
    );
}

// ── min / max ──

#[test]
fn highest_and_lowest_price() {
    assert_eq!(
        ask("highest price"),
        both(
            "SELECT max(price) AS max_price FROM products",
            "SELECT max(list_price) AS max_price FROM dim_product"
        )
    );
    assert_eq!(
        ask("What is the minimum price?"),
        both(
            "SELECT min(price) AS min_price FROM products",
            "SELECT min(list_price) AS min_price FROM dim_product"
        )
    );
}

#[test]
fn maximum_order_amount() {
    assert_eq!(
        ask("maximum order amount"),
        shop_only("SELECT max(total_amount) AS max_order_amount FROM orders")
    );
    assert_eq!(
        ask("largest order"),
        shop_only("SELECT max(total_amount) AS max_order FROM orders")
    );
}

#[test]
fn latest_and_earliest() {
    assert_eq!(
        ask("latest order"),
        shop_only("SELECT max(order_date) AS latest_order FROM orders")
    );
    assert_eq!(
        ask("when was the first order?"),
        shop_only("SELECT min(order_date) AS earliest_order FROM orders")
    );
    assert_eq!(
        ask("newest customer"),
        shop_only("SELECT max(created_at) AS latest_customer FROM customers")
    );
}

#[test]
fn most_expensive_and_cheapest_product() {
    assert_eq!(
        ask("most expensive product"),
        both(
            "SELECT name AS product, price FROM products WHERE price IS NOT NULL ORDER BY price DESC LIMIT 1",
            "SELECT product_name AS product, list_price AS price FROM dim_product WHERE list_price IS NOT NULL ORDER BY list_price DESC LIMIT 1"
        )
    );
    assert_eq!(
        ask("What's the cheapest product?"),
        both(
            "SELECT name AS product, price FROM products WHERE price IS NOT NULL ORDER BY price LIMIT 1",
            "SELECT product_name AS product, list_price AS price FROM dim_product WHERE list_price IS NOT NULL ORDER BY list_price LIMIT 1"
        )
    );
    assert_eq!(
        ask("product with the highest price"),
        ask("most expensive product")
    );
    assert_eq!(
        ask("3 cheapest products"),
        both(
            "SELECT name AS product, price FROM products WHERE price IS NOT NULL ORDER BY price LIMIT 3",
            "SELECT product_name AS product, list_price AS price FROM dim_product WHERE list_price IS NOT NULL ORDER BY list_price LIMIT 3"
        )
    );
}

// ── top-N ──

#[test]
fn top_products_by_price() {
    assert_eq!(
        ask("top 5 products by price"),
        both(
            "SELECT name AS product, price FROM products WHERE price IS NOT NULL ORDER BY price DESC LIMIT 5",
            "SELECT product_name AS product, list_price AS price FROM dim_product WHERE list_price IS NOT NULL ORDER BY list_price DESC LIMIT 5"
        )
    );
}

#[test]
fn top_customers_by_revenue_joins() {
    assert_eq!(
        ask("top 3 customers by revenue"),
        both(
            "SELECT c.name AS customer, sum(o.total_amount) AS revenue FROM orders AS o JOIN customers AS c ON o.customer_id = c.id GROUP BY c.id, c.name ORDER BY sum(o.total_amount) DESC LIMIT 3",
            "SELECT c.customer_name AS customer, sum(s.revenue) AS revenue FROM fact_sales AS s JOIN dim_customer AS c ON s.customer_key = c.customer_key GROUP BY c.customer_key, c.customer_name ORDER BY sum(s.revenue) DESC LIMIT 3"
        )
    );
}

#[test]
fn top_products_by_revenue_uses_quantity_times_price() {
    assert_eq!(
        ask("top 5 products by revenue"),
        both(
            "SELECT p.name AS product, sum(oi.quantity * oi.unit_price) AS revenue FROM order_items AS oi JOIN products AS p ON oi.product_id = p.id GROUP BY p.id, p.name ORDER BY sum(oi.quantity * oi.unit_price) DESC LIMIT 5",
            "SELECT p.product_name AS product, sum(s.revenue) AS revenue FROM fact_sales AS s JOIN dim_product AS p ON s.product_key = p.product_key GROUP BY p.product_key, p.product_name ORDER BY sum(s.revenue) DESC LIMIT 5"
        )
    );
    // No measure named: revenue.
    assert_eq!(ask("top 5 products"), ask("top 5 products by revenue"));
}

#[test]
fn top_without_label_lists_rows() {
    assert_eq!(
        ask("show the 10 most recent orders"),
        shop_only(
            "SELECT * FROM orders WHERE order_date IS NOT NULL ORDER BY order_date DESC LIMIT 10"
        )
    );
    assert_eq!(
        ask("top 2 orders by amount"),
        shop_only("SELECT * FROM orders WHERE total_amount IS NOT NULL ORDER BY total_amount DESC LIMIT 2")
    );
}

// ── lists ──

#[test]
fn lists() {
    assert_eq!(
        ask("list customers"),
        both("SELECT * FROM customers", "SELECT * FROM dim_customer")
    );
    assert_eq!(
        ask("Show all products."),
        both("SELECT * FROM products", "SELECT * FROM dim_product")
    );
    assert_eq!(
        ask("show 10 orders"),
        shop_only("SELECT * FROM orders LIMIT 10")
    );
    assert_eq!(
        ask("first 5 orders"),
        shop_only("SELECT * FROM orders LIMIT 5")
    );
    assert_eq!(ask("show me the orders"), shop_only("SELECT * FROM orders"));
}

// ── group by ──

#[test]
fn orders_per_status() {
    assert_eq!(
        ask("orders per status"),
        shop_only("SELECT status, count(*) AS orders FROM orders GROUP BY status ORDER BY status")
    );
    assert_eq!(ask("how many orders per status?"), ask("orders per status"));
}

#[test]
fn customers_by_country() {
    let expected = both(
        "SELECT country, count(*) AS customers FROM customers GROUP BY country ORDER BY country",
        "SELECT country, count(*) AS customers FROM dim_customer GROUP BY country ORDER BY country",
    );
    assert_eq!(ask("customers by country"), expected);
    assert_eq!(ask("how many customers per country"), expected);
    assert_eq!(ask("number of customers in each country"), expected);
}

#[test]
fn count_products_per_category() {
    assert_eq!(
        ask("count of products per category"),
        both(
            "SELECT category, count(*) AS products FROM products GROUP BY category ORDER BY category",
            "SELECT category, count(*) AS products FROM dim_product GROUP BY category ORDER BY category"
        )
    );
}

#[test]
fn revenue_by_category_joins() {
    let expected = both(
        "SELECT p.category, sum(oi.quantity * oi.unit_price) AS total_revenue FROM order_items AS oi JOIN products AS p ON oi.product_id = p.id GROUP BY p.category ORDER BY p.category",
        "SELECT p.category, sum(s.revenue) AS total_revenue FROM fact_sales AS s JOIN dim_product AS p ON s.product_key = p.product_key GROUP BY p.category ORDER BY p.category",
    );
    assert_eq!(ask("revenue by category"), expected);
    assert_eq!(ask("total revenue by category"), expected);
}

#[test]
fn average_price_per_category() {
    assert_eq!(
        ask("average price per category"),
        both(
            "SELECT category, avg(price) AS avg_price FROM products GROUP BY category ORDER BY category",
            "SELECT category, avg(list_price) AS avg_price FROM dim_product GROUP BY category ORDER BY category"
        )
    );
}

#[test]
fn group_by_month_uses_dialect_date_format() {
    assert_eq!(
        ask("revenue per month"),
        both(
            "SELECT strftime('%Y-%m', order_date) AS \"month\", sum(total_amount) AS total_revenue FROM orders GROUP BY strftime('%Y-%m', order_date) ORDER BY strftime('%Y-%m', order_date)",
            "SELECT strftime(d.\"date\", '%Y-%m') AS \"month\", sum(s.revenue) AS total_revenue FROM fact_sales AS s JOIN dim_date AS d ON s.date_key = d.date_key GROUP BY strftime(d.\"date\", '%Y-%m') ORDER BY strftime(d.\"date\", '%Y-%m')"
        )
    );
    assert_eq!(ask("monthly revenue"), ask("revenue per month"));
    assert_eq!(
        ask("orders per year"),
        shop_only("SELECT strftime('%Y', order_date) AS \"year\", count(*) AS orders FROM orders GROUP BY strftime('%Y', order_date) ORDER BY strftime('%Y', order_date)")
    );
}

#[test]
fn group_by_entity_through_foreign_key() {
    assert_eq!(
        ask("orders per customer"),
        shop_only("SELECT c.name AS customer, count(*) AS orders FROM orders AS o JOIN customers AS c ON o.customer_id = c.id GROUP BY c.id, c.name ORDER BY c.name")
    );
    assert_eq!(
        ask("orders by country"),
        shop_only("SELECT c.country, count(*) AS orders FROM orders AS o JOIN customers AS c ON o.customer_id = c.id GROUP BY c.country ORDER BY c.country")
    );
}
