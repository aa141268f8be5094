package retrofit;

public class RestClientTest {
  @Test public void logsResponseHeaders() throws Exception {
    Example example = new RestClient.Builder()
        .setServer("http://example.com")
        .setClient(mockClient)
        .build()
        .create(Example.class);

    when(mockClient.execute(any(Request.class))) //
        .thenReturn(new Response("http://example.com/", 200, "OK", TWO_HEADERS, new TypedString("Hi")));

    example.something();
    assertThat(logMessages).hasSize(2);
  }
}
