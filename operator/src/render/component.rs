//! The parts of a shop the operator runs, and the facts about each that rendering needs:
//! names, ports, images, and who may talk to whom.

use crate::crd::{ServiceSpec, ShopSpec, StoreSpec};

/// A stateless part, run as a Deployment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum App {
    Frontend,
    Gateway,
    Catalog,
    Cart,
    Identity,
    Checkout,
    Payment,
    Shipping,
    Email,
}

/// A stateful part, run as a StatefulSet unless the spec points to an external one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Store {
    UserDb,
    CatalogDb,
    Redis,
    Rabbitmq,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Component {
    App(App),
    Store(Store),
}

/// Every port a shop's HTTP program listens on inside the cluster.
pub const HTTP_PORT: i32 = 8080;

/// The databases of `user-db`, each owned by one service.
pub const USER_DATABASES: [(&str, App); 5] = [
    ("users", App::Identity),
    ("orders", App::Checkout),
    ("payments", App::Payment),
    ("shipping", App::Shipping),
    ("email", App::Email),
];

impl App {
    pub const ALL: [App; 9] = [
        App::Frontend,
        App::Gateway,
        App::Catalog,
        App::Cart,
        App::Identity,
        App::Checkout,
        App::Payment,
        App::Shipping,
        App::Email,
    ];

    pub fn name(self) -> &'static str {
        match self {
            App::Frontend => "frontend",
            App::Gateway => "gateway",
            App::Catalog => "catalog",
            App::Cart => "cart",
            App::Identity => "identity",
            App::Checkout => "checkout",
            App::Payment => "payment",
            App::Shipping => "shipping",
            App::Email => "email",
        }
    }

    /// `app.kubernetes.io/component`.
    pub fn role(self) -> &'static str {
        match self {
            App::Frontend => "frontend",
            App::Gateway => "gateway",
            _ => "backend",
        }
    }

    pub fn spec(self, spec: &ShopSpec) -> &ServiceSpec {
        match self {
            App::Frontend => &spec.frontend,
            App::Gateway => &spec.gateway,
            App::Catalog => &spec.catalog,
            App::Cart => &spec.cart,
            App::Identity => &spec.identity,
            App::Checkout => &spec.checkout,
            App::Payment => &spec.payment,
            App::Shipping => &spec.shipping,
            App::Email => &spec.email,
        }
    }

    /// The `user-db` database this service owns, if any.
    pub fn user_database(self) -> Option<&'static str> {
        USER_DATABASES
            .iter()
            .find(|(_, owner)| *owner == self)
            .map(|(db, _)| *db)
    }
}

impl Store {
    pub const ALL: [Store; 4] = [
        Store::UserDb,
        Store::CatalogDb,
        Store::Redis,
        Store::Rabbitmq,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Store::UserDb => "user-db",
            Store::CatalogDb => "catalog-db",
            Store::Redis => "redis",
            Store::Rabbitmq => "rabbitmq",
        }
    }

    pub fn role(self) -> &'static str {
        match self {
            Store::UserDb | Store::CatalogDb => "database",
            Store::Redis => "cache",
            Store::Rabbitmq => "broker",
        }
    }

    pub fn spec(self, spec: &ShopSpec) -> &StoreSpec {
        match self {
            Store::UserDb => &spec.user_db,
            Store::CatalogDb => &spec.catalog_db,
            Store::Redis => &spec.redis,
            Store::Rabbitmq => &spec.rabbitmq,
        }
    }

    pub fn port(self) -> i32 {
        match self {
            Store::UserDb | Store::CatalogDb => 5432,
            Store::Redis => 6379,
            Store::Rabbitmq => 5672,
        }
    }

    pub fn port_name(self) -> &'static str {
        match self {
            Store::UserDb | Store::CatalogDb => "postgres",
            Store::Redis => "redis",
            Store::Rabbitmq => "amqp",
        }
    }

    pub fn default_image(self) -> &'static str {
        match self {
            Store::UserDb | Store::CatalogDb => "postgres:17",
            Store::Redis => "redis:7.4",
            Store::Rabbitmq => "rabbitmq:4.1",
        }
    }

    /// The numeric user of the official image (`postgres`, `redis`, `rabbitmq` are all 999
    /// in the Debian-based images); `runAsNonRoot` cannot check a user name.
    pub fn image_uid(self) -> i64 {
        999
    }
}

impl Component {
    pub fn name(self) -> &'static str {
        match self {
            Component::App(app) => app.name(),
            Component::Store(store) => store.name(),
        }
    }

    pub fn role(self) -> &'static str {
        match self {
            Component::App(app) => app.role(),
            Component::Store(store) => store.role(),
        }
    }

    pub fn port(self) -> i32 {
        match self {
            Component::App(_) => HTTP_PORT,
            Component::Store(store) => store.port(),
        }
    }

    /// Every component a shop can run, apps first.
    pub fn all() -> impl Iterator<Item = Component> {
        App::ALL
            .into_iter()
            .map(Component::App)
            .chain(Store::ALL.into_iter().map(Component::Store))
    }
}

/// Who calls whom: the only paths the NetworkPolicies open and the only URLs the
/// Deployments are given. Anything else is denied.
pub const PATHS: &[(App, Component)] = &[
    (App::Frontend, Component::App(App::Gateway)),
    (App::Gateway, Component::App(App::Catalog)),
    (App::Gateway, Component::App(App::Cart)),
    (App::Gateway, Component::App(App::Identity)),
    (App::Gateway, Component::App(App::Checkout)),
    (App::Gateway, Component::App(App::Shipping)),
    (App::Checkout, Component::App(App::Cart)),
    (App::Checkout, Component::App(App::Catalog)),
    (App::Checkout, Component::App(App::Shipping)),
    // cart asks catalog whether a product exists before it goes into a cart.
    (App::Cart, Component::App(App::Catalog)),
    (App::Catalog, Component::Store(Store::CatalogDb)),
    (App::Identity, Component::Store(Store::UserDb)),
    (App::Checkout, Component::Store(Store::UserDb)),
    (App::Payment, Component::Store(Store::UserDb)),
    (App::Shipping, Component::Store(Store::UserDb)),
    (App::Email, Component::Store(Store::UserDb)),
    (App::Cart, Component::Store(Store::Redis)),
    (App::Checkout, Component::Store(Store::Rabbitmq)),
    (App::Payment, Component::Store(Store::Rabbitmq)),
    (App::Shipping, Component::Store(Store::Rabbitmq)),
    (App::Email, Component::Store(Store::Rabbitmq)),
];

/// What `app` calls.
pub fn targets(app: App) -> impl Iterator<Item = Component> {
    PATHS
        .iter()
        .filter(move |(from, _)| *from == app)
        .map(|(_, to)| *to)
}

/// Who calls `component`.
pub fn callers(component: Component) -> impl Iterator<Item = App> {
    PATHS
        .iter()
        .filter(move |(_, to)| *to == component)
        .map(|(from, _)| *from)
}
