package example.http;

import com.google.gson.Gson;
import com.google.inject.Inject;
import org.apache.http.HttpEntity;
import org.apache.http.HttpResponse;
import org.apache.http.client.HttpClient;

import java.io.IOException;
import java.util.concurrent.Executor;

public class Gateway {
  @Inject private HttpClient client;
  @Inject private Gson gson;

  HttpEntity fetch(String url) throws IOException {
    HttpResponse response = client.execute(url);
    return response.getEntity();
  }
}
