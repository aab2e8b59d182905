//! The shapes of issue 14: no silent caps, dates never row limits, refusals that name the
//! words, distinct values, date ranges, quantities, per-value superlatives, several databases.

use super::*;

fn raw(q: &str) -> String {
    match BuiltinPlanner::new().plan(q, &[], &demo()) {
        Ok(s) => s,
        Err(e) => panic!("{q}: {e}"),
    }
}

#[test]
fn every_block_states_its_interpretation() {
    let r = raw("list customers from Germany");
    assert!(
        r.contains("DATABASE: shop\n-- interpreted as: rows of customers where country = 'Germany'; every row (up to max_rows)\nSELECT * FROM customers WHERE country = 'Germany';"),
        "{r}"
    );
    assert_eq!(
        crate::llm::block_notes("-- interpreted as: x\nSELECT 1"),
        vec!["interpreted as: x".to_string()]
    );
    // The synonym pass says so.
    let only_wh = vec![warehouse()];
    let r = BuiltinPlanner::new()
        .plan("how many orders", &[], &only_wh)
        .expect("plans");
    assert!(r.contains("\"order\" read as \"sale\""), "{r}");
}

#[test]
fn lists_are_never_capped_silently() {
    assert_eq!(
        ask("list customers"),
        both("SELECT * FROM customers", "SELECT * FROM dim_customer")
    );
    assert_eq!(
        ask("show 10 orders"),
        shop_only("SELECT * FROM orders LIMIT 10")
    );
}

#[test]
fn dates_are_filters_never_limits() {
    assert_eq!(
        ask("list the orders placed on 2024-12-26"),
        shop_only(
            "SELECT * FROM orders WHERE order_date >= '2024-12-26' AND order_date < '2024-12-27'"
        )
    );
    assert_eq!(
        ask("how many orders in March 2024"),
        shop_only("SELECT count(*) AS orders FROM orders WHERE order_date >= '2024-03-01' AND order_date < '2024-04-01'")
    );
    assert_eq!(
        ask("total revenue in Q4 2024"),
        both(
            "SELECT sum(total_amount) AS total_revenue FROM orders WHERE order_date >= '2024-10-01' AND order_date < '2025-01-01'",
            "SELECT sum(s.revenue) AS total_revenue FROM fact_sales AS s JOIN dim_date AS d ON s.date_key = d.date_key WHERE d.\"date\" >= '2024-10-01' AND d.\"date\" < '2025-01-01'"
        )
    );
    assert_eq!(
        ask("how many orders in the last 30 days"),
        shop_only("SELECT count(*) AS orders FROM orders WHERE order_date > date((SELECT max(order_date) FROM orders), '-30 days')")
    );
    assert_eq!(
        ask("orders between 2024-01-01 and 2024-01-31"),
        shop_only(
            "SELECT * FROM orders WHERE order_date >= '2024-01-01' AND order_date < '2024-02-01'"
        )
    );
}

#[test]
fn refusals_name_the_words_not_placed() {
    for (q, word) in [
        ("customers in Paris", "\"Paris\""),
        ("how many cancelled orders", "\"cancelled\""),
        ("how many orders 77", "\"77\""),
        ("average price 2024", "\"2024\""),
        ("how many unicorns are there?", "\"unicorns\""),
    ] {
        let m = unsupported(q);
        assert!(m.contains("could not place"), "{q}: {m}");
        assert!(m.contains(word), "{q}: {m}");
    }
}

#[test]
fn distinct_values() {
    assert_eq!(
        ask("how many distinct cities"),
        both(
            "SELECT count(DISTINCT city) AS cities FROM customers",
            "SELECT count(DISTINCT city) AS cities FROM dim_customer"
        )
    );
    assert_eq!(
        ask("all product categories"),
        both(
            "SELECT DISTINCT category FROM products ORDER BY category",
            "SELECT DISTINCT category FROM dim_product ORDER BY category"
        )
    );
    assert_eq!(
        ask("what segments are there"),
        warehouse_only("SELECT DISTINCT segment FROM dim_customer ORDER BY segment")
    );
}

#[test]
fn quantities_and_per_entity_averages() {
    assert_eq!(
        ask("how many items were sold"),
        both(
            "SELECT sum(quantity) AS total_quantity FROM order_items",
            "SELECT sum(quantity) AS total_quantity FROM fact_sales"
        )
    );
    assert_eq!(
        ask("average number of items per order"),
        shop_only(
            "SELECT sum(quantity) * 1.0 / count(DISTINCT order_id) AS avg_item FROM order_items"
        )
    );
}

#[test]
fn superlatives_over_groups() {
    assert_eq!(
        ask("the category with the highest average price"),
        both(
            "SELECT category, avg(price) AS average_price FROM products GROUP BY category ORDER BY avg(price) DESC LIMIT 1",
            "SELECT category, avg(list_price) AS average_price FROM dim_product GROUP BY category ORDER BY avg(list_price) DESC LIMIT 1"
        )
    );
    assert_eq!(
        ask("which month had the most orders"),
        shop_only("SELECT strftime('%Y-%m', order_date) AS \"month\", count(*) AS orders FROM orders GROUP BY strftime('%Y-%m', order_date) ORDER BY count(*) DESC LIMIT 1")
    );
    assert_eq!(
        ask("the 5 biggest sales by revenue"),
        warehouse_only(
            "SELECT * FROM fact_sales WHERE revenue IS NOT NULL ORDER BY revenue DESC LIMIT 5"
        )
    );
}

#[test]
fn between_and_quarters() {
    assert_eq!(
        ask("products with price between 20 and 50"),
        both(
            "SELECT * FROM products WHERE price BETWEEN 20 AND 50",
            "SELECT * FROM dim_product WHERE list_price BETWEEN 20 AND 50"
        )
    );
    assert_eq!(
        ask("orders per quarter"),
        shop_only("SELECT strftime('%Y', order_date) || '-Q' || ((CAST(strftime('%m', order_date) AS INTEGER) + 2) / 3) AS quarter, count(*) AS orders FROM orders GROUP BY strftime('%Y', order_date) || '-Q' || ((CAST(strftime('%m', order_date) AS INTEGER) + 2) / 3) ORDER BY strftime('%Y', order_date) || '-Q' || ((CAST(strftime('%m', order_date) AS INTEGER) + 2) / 3)")
    );
}

#[test]
fn several_named_databases() {
    assert_eq!(
        ask("compare the number of customers in shop and warehouse"),
        both(
            "SELECT count(*) AS customers FROM customers",
            "SELECT count(*) AS customers FROM dim_customer"
        )
    );
    assert_eq!(
        ask("how many customers in shop"),
        shop_only("SELECT count(*) AS customers FROM customers")
    );
}

#[test]
fn shares_of_a_total() {
    assert_eq!(
        ask("percentage of orders by status"),
        shop_only("SELECT status, count(*) AS orders, 100.0 * count(*) / sum(count(*)) OVER () AS pct_orders FROM orders GROUP BY status ORDER BY status")
    );
    let m = unsupported("percentage of orders");
    assert!(m.contains("could not place \"percentage\""), "{m}");
}
