//! Posted console forms: the logged-in user, their role and the form's CSRF token, checked in one
//! place before a handler sees the fields.

use std::marker::PhantomData;

use axum::Form;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::WebState;
use super::auth::CurrentUser;
use crate::store::Role;

/// Who may post a form (see shared/domain.md, "Permissions").
pub trait Roles {
    const ROLES: &'static [Role];
}

/// Staff and admins: topics, broadcasts, departments, the roster, API tokens.
pub struct Staff;

impl Roles for Staff {
    const ROLES: &'static [Role] = &[Role::Admin, Role::Staff];
}

/// Admins only: console accounts.
pub struct Admin;

impl Roles for Admin {
    const ROLES: &'static [Role] = &[Role::Admin];
}

/// Everyone logged in (logging out).
pub struct Anyone;

impl Roles for Anyone {
    const ROLES: &'static [Role] = &[Role::Admin, Role::Staff, Role::Department];
}

/// A form with no fields but its CSRF token (a button).
#[derive(Debug, Default, Deserialize)]
pub struct NoFields {}

/// A form `T` posted by a logged-in user with one of `R::ROLES`, its `_csrf` field matching the
/// session's. Checked in the order the handlers always did: logged in (else the login page), the
/// form readable (else 400 or 415), the role (else 403), the token (else the "page expired" 403).
///
/// `T`'s fields must all be text (`String`, `Option<String>`): they are read through
/// `#[serde(flatten)]`, which does not parse numbers out of a form.
pub struct Posted<T, R = Staff> {
    pub user: CurrentUser,
    pub form: T,
    roles: PhantomData<R>,
}

#[derive(Deserialize)]
struct WithCsrf<T> {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    #[serde(flatten)]
    form: T,
}

impl<T: DeserializeOwned, R: Roles> FromRequest<WebState> for Posted<T, R> {
    type Rejection = Response;

    async fn from_request(request: Request, state: &WebState) -> Result<Self, Response> {
        let (mut parts, body) = request.into_parts();
        let user = CurrentUser::from_request_parts(&mut parts, state).await.map_err(IntoResponse::into_response)?;
        let Form(posted) = Form::<WithCsrf<T>>::from_request(Request::from_parts(parts, body), state)
            .await
            .map_err(IntoResponse::into_response)?;
        user.require(R::ROLES).map_err(IntoResponse::into_response)?;
        user.check_csrf(&posted.csrf).map_err(IntoResponse::into_response)?;
        Ok(Self { user, form: posted.form, roles: PhantomData })
    }
}
