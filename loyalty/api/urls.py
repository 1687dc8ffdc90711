from loyalty.api.coupons_urls import urlpatterns as coupon_urlpatterns
from loyalty.api.customers_urls import urlpatterns as customer_urlpatterns
from loyalty.api.events_urls import urlpatterns as event_urlpatterns
from loyalty.api.sessions_urls import urlpatterns as session_urlpatterns

urlpatterns = event_urlpatterns + customer_urlpatterns + coupon_urlpatterns + session_urlpatterns
