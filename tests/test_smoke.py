def test_admin_login_page_loads(client, db):
    # when
    response = client.get("/admin/login/")

    # then
    assert response.status_code == 200
