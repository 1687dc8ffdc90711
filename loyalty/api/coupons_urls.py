"""Routes of the loyalty coupons API."""

from django.urls import path

from loyalty.api.coupons import CouponRedeemApi, CouponValidateApi, CustomerCouponClaimApi, CustomerCouponListApi

urlpatterns: list = [
    path("customers/<str:customer_id>/coupons", CustomerCouponListApi.as_view(), name="loyalty-customer-coupons"),
    path(
        "customers/<str:customer_id>/coupons/claim",
        CustomerCouponClaimApi.as_view(),
        name="loyalty-customer-coupon-claim",
    ),
    path("coupons/validate", CouponValidateApi.as_view(), name="loyalty-coupon-validate"),
    path("coupons/redeem", CouponRedeemApi.as_view(), name="loyalty-coupon-redeem"),
]
